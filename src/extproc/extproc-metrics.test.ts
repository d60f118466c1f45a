/** ExtprocMetrics: gRPC status codes named as llm-d's EPP names them (Go's codes.Code.String()). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { grpcCodeName } from './extproc-metrics.js';

test('gRPC codes as Go spells them, the code label of llm_d_epp_extproc_streams_total', () => {
  const cases: [status, string][] = [
    [status.OK, 'OK'],
    [status.CANCELLED, 'Canceled'],
    [status.UNKNOWN, 'Unknown'],
    [status.INVALID_ARGUMENT, 'InvalidArgument'],
    [status.DEADLINE_EXCEEDED, 'DeadlineExceeded'],
    [status.FAILED_PRECONDITION, 'FailedPrecondition'],
    [status.RESOURCE_EXHAUSTED, 'ResourceExhausted'],
    [status.INTERNAL, 'Internal'],
    [status.UNAVAILABLE, 'Unavailable'],
    [status.DATA_LOSS, 'DataLoss'],
    [status.UNAUTHENTICATED, 'Unauthenticated'],
    [99 as status, 'Code(99)'],
  ];
  for (const [code, name] of cases) assert.equal(grpcCodeName(code), name);
});
