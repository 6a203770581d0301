/**
 * The runtime's diagnostics channel: every RuntimeEvent of every StreamRuntime in the process,
 * tagged with the runtime's id. Metrics and tests subscribe here instead of polling `stats()`.
 */
import { EventChannel } from '../../core/diagnostics.ts';
import type { RuntimeEvent } from './types.ts';

export type RuntimeDiagnostic = RuntimeEvent & { runtime: string };

export const runtimeDiagnostics = new EventChannel<RuntimeDiagnostic>('kstream:runtime');
