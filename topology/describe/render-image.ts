/**
 * Renders DOT text to an image with Graphviz's `dot` binary. Graphviz is an optional system
 * package, so its absence is reported as such rather than as a spawn failure.
 */
import { spawn } from 'node:child_process';

export type ImageFormat = 'svg' | 'png';

export class GraphvizMissingError extends Error {
  constructor(binary: string) {
    super(`cannot render the topology image: Graphviz "${binary}" is not installed or not on PATH (e.g. apt-get install graphviz); the DOT text can still be printed with --format dot`);
    this.name = 'GraphvizMissingError';
  }
}

export interface RenderOptions {
  /** The `dot` executable; tests point it elsewhere. */
  dotBinary?: string;
}

export function renderImage(dotText: string, format: ImageFormat, outFile: string, options: RenderOptions = {}): Promise<void> {
  const binary = options.dotBinary ?? 'dot';
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [`-T${format}`, '-o', outFile], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? new GraphvizMissingError(binary) : error);
    });
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${binary} failed (${code === null ? `signal ${signal}` : `exit code ${code}`}): ${stderr.trim()}`));
    });
    // An EPIPE here follows a spawn failure, which 'error' already reports.
    child.stdin.on('error', () => {});
    child.stdin.end(dotText);
  });
}
