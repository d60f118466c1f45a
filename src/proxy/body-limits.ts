/** The size limit a request body is read within: one for bodies parsed as JSON, another for multipart/form-data uploads. */
import { isMultipart } from '../bbr/multipart-model.js';

/** A limit, and the flag that sets it, for the 413 to name. */
export interface BodyLimit {
  readonly bytes: number;
  readonly flag: string;
}

/**
 * The default limit of a multipart/form-data body: vLLM (VLLM_MAX_AUDIO_CLIP_FILESIZE_MB) and OpenAI take audio
 * files up to 25 MB, and the form around the file adds a little; the simulator takes as much.
 */
export const DEFAULT_MAX_UPLOAD_BYTES = 32 * 1024 * 1024;

/**
 * `--max-body-bytes` for a body parsed as JSON; `--max-upload-bytes` for a multipart/form-data upload, which is
 * held raw and scanned for its `model` field, never parsed, so its size costs memory only (bounded by
 * `--max-body-memory` like any body). Built once: a request only picks one of the two.
 */
export class BodyLimits {
  readonly json: BodyLimit;
  readonly upload: BodyLimit;

  constructor(maxBodyBytes: number, maxUploadBytes = DEFAULT_MAX_UPLOAD_BYTES) {
    this.json = { bytes: maxBodyBytes, flag: '--max-body-bytes' };
    this.upload = { bytes: maxUploadBytes, flag: '--max-upload-bytes, for multipart/form-data uploads' };
  }

  of(contentType: string | undefined): BodyLimit {
    return isMultipart(contentType) ? this.upload : this.json;
  }
}
