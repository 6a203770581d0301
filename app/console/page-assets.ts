/**
 * The console page's files: the page itself (app/console/page/) and the npm packages it runs on,
 * served from node_modules under /vendor/, so the page works offline: nothing is fetched from the
 * internet at run time. The page names the vendor modules through an import map.
 */
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PageAsset {
  body: Buffer;
  contentType: string;
}

const PAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'page');

/**
 * Vendor URL name -> the bare module name the page's import map gives it. Each is resolved the
 * way Node resolves an ESM import of it (the package's "import" export), so the browser runs the
 * very file a Node import would, whatever the package's folder layout.
 */
export const VENDOR_MODULES: Record<string, string> = {
  'preact.mjs': 'preact',
  'preact-hooks.mjs': 'preact/hooks',
  'htm.mjs': 'htm',
  'dagre.mjs': '@dagrejs/dagre',
};

function vendorFile(name: string): string | undefined {
  const specifier = Object.hasOwn(VENDOR_MODULES, name) ? VENDOR_MODULES[name] : undefined;
  return specifier === undefined ? undefined : fileURLToPath(import.meta.resolve(specifier));
}

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
  if (urlPath.startsWith('/vendor/')) return vendorFile(urlPath.slice('/vendor/'.length));
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
