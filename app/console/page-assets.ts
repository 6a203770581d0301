/**
 * The console page's files: the page itself (app/console/page/) and the npm packages it runs on,
 * served from node_modules under /vendor/, so the page works offline: nothing is fetched from the
 * internet at run time. The page names the vendor modules through an import map.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PageAsset {
  body: Buffer;
  contentType: string;
}

const PAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'page');
const require = createRequire(import.meta.url);

/** Vendor URL name -> file of an installed package (resolved through the package, not a fixed path). */
const VENDOR: Record<string, () => string> = {
  'preact.mjs': () => join(dirname(require.resolve('preact/package.json')), 'dist', 'preact.mjs'),
  'preact-hooks.mjs': () => join(dirname(require.resolve('preact/package.json')), 'hooks', 'dist', 'hooks.mjs'),
  'htm.mjs': () => join(dirname(require.resolve('htm/package.json')), 'dist', 'htm.mjs'),
  'dagre.mjs': () => join(dirname(require.resolve('@dagrejs/dagre/package.json')), 'dist', 'dagre.esm.js'),
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

function contentTypeOf(file: string): string {
  return CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
}

/** The page file a URL path names, or undefined: `/` is the page, `/page/<file>` its files, `/vendor/<name>` a package module. */
function fileOf(urlPath: string): string | undefined {
  if (urlPath === '/' || urlPath === '/index.html') return join(PAGE_DIR, 'index.html');
  if (urlPath.startsWith('/vendor/')) return VENDOR[urlPath.slice('/vendor/'.length)]?.();
  if (urlPath.startsWith('/page/')) {
    const file = normalize(join(PAGE_DIR, urlPath.slice('/page/'.length)));
    // No way out of the page folder (`..`, encoded or not, is normalized away before this check).
    return file.startsWith(PAGE_DIR + sep) ? file : undefined;
  }
  return undefined;
}

/** The asset a GET of `urlPath` serves, or undefined (404). */
export async function pageAsset(urlPath: string): Promise<PageAsset | undefined> {
  const file = fileOf(urlPath);
  if (file === undefined) return undefined;
  try {
    return { body: await readFile(file), contentType: contentTypeOf(file) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
    throw error;
  }
}
