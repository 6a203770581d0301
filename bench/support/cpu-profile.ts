/**
 * CPU profiling of one phase of the bench (not the whole process, which would mix in the
 * backlog build): the V8 profiler through node:inspector, saved as a .cpuprofile that Chrome
 * DevTools opens, and summarised as the functions with the most self time.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface HotFunction {
  function: string;
  location: string;
  selfPercent: number;
}

export interface CpuProfiler {
  stop(file: string): Promise<HotFunction[]>;
}

export async function startCpuProfile(): Promise<CpuProfiler> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
      session.disconnect();
      writeFileSync(file, JSON.stringify(profile));
      return hotFunctions(profile, 25);
    },
  };
}

/** Self time per function (summed over its call sites), idle and GC included, as shares of all samples. */
export function hotFunctions(profile: Profile, limit: number): HotFunction[] {
  const total = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0) || 1;
  const byFunction = new Map<string, HotFunction & { hits: number }>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const location = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${functionName}@${location}`;
    const entry = byFunction.get(key) ?? { function: functionName || '(anonymous)', location, selfPercent: 0, hits: 0 };
    entry.hits += hits;
    byFunction.set(key, entry);
  }
  return [...byFunction.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, limit)
    .map(({ hits, ...entry }) => ({ ...entry, selfPercent: Math.round((hits / total) * 1000) / 10 }));
}

function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) return path.slice(modules + 'node_modules/'.length);
  const root = path.indexOf('/work/main/');
  return root >= 0 ? path.slice(root + '/work/main/'.length) : path;
}
