/** `infergate sim --model NAME`: runs the vLLM-compatible simulator until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import type { SimulatorOptions } from '../sim/simulator.js';
import { startSimulator } from '../sim/simulator.js';
import { onShutdown } from './on-shutdown.js';

/** The flags as commander hands them over: strings, validated by `simOptionsFromFlags`. */
export interface SimFlags {
  model: string;
  lora?: string;
  host: string;
  port: string;
  podName?: string;
  maxNumSeqs: string;
  ttft?: string;
  itl?: string;
  mode: string;
}

/** Exit code for a bad flag, as for any usage error. */
const USAGE_EXIT_CODE = 2;

function numberFlag(flag: string, value: string, min: number, max: number, integer: boolean): number {
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    const kind = integer ? 'an integer' : 'a number';
    throw new Error(`${flag} must be ${kind} from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

/** Turns flags into simulator options; throws an Error whose message names the bad flag. */
export function simOptionsFromFlags(flags: SimFlags): SimulatorOptions {
  if (flags.mode !== 'echo' && flags.mode !== 'random') {
    throw new Error(`--mode must be echo or random, got "${flags.mode}"`);
  }
  const loras = (flags.lora ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const opts: SimulatorOptions = {
    model: flags.model,
    loras,
    host: flags.host,
    port: numberFlag('--port', flags.port, 0, 65535, true),
    maxNumSeqs: numberFlag('--max-num-seqs', flags.maxNumSeqs, 1, 1_000_000, true),
    mode: flags.mode,
  };
  if (flags.podName !== undefined) opts.podName = flags.podName;
  if (flags.ttft !== undefined) opts.ttftMs = numberFlag('--ttft', flags.ttft, 0, 3_600_000, false);
  if (flags.itl !== undefined) opts.itlMs = numberFlag('--itl', flags.itl, 0, 3_600_000, false);
  return opts;
}

export function registerSimCommand(program: Command): void {
  program
    .command('sim')
    .description('run a vLLM-compatible simulator: OpenAI completions and chat, /v1/models, /health and vLLM /metrics')
    .requiredOption('--model <name>', 'base model name served')
    .option('--lora <a,b>', 'LoRA adapter names served on top of the base model (comma-separated)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 = any free port)', '8000')
    .option('--pod-name <name>', 'sent back in the x-inference-pod header of every response')
    .option('--max-num-seqs <n>', 'requests generating at once; the rest wait in FIFO order', '5')
    .option('--ttft <ms>', 'time to first token once a slot is free, in milliseconds (default 10)')
    .option('--itl <ms>', 'inter-token latency, in milliseconds (default 2)')
    .option('--mode <mode>', 'echo (repeat the last user message) or random (canned sentences)', 'random')
    .action(async (flags: SimFlags) => {
      let opts: SimulatorOptions;
      try {
        opts = simOptionsFromFlags(flags);
      } catch (e) {
        console.error(`error: ${(e as Error).message}`);
        process.exit(USAGE_EXIT_CODE);
      }
      try {
        const sim = await startSimulator(opts);
        const adapters = sim.options.loras.length > 0 ? ` (adapters: ${sim.options.loras.join(', ')})` : '';
        console.log(`infergate sim serving ${sim.options.model}${adapters} on ${sim.url}`);
        onShutdown(() => sim.close());
      } catch (e) {
        console.error(`error: ${(e as Error).message}`);
        process.exit(1);
      }
    });
}
