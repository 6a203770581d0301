/**
 * The console page's files (app/console/page-assets.ts): the page, its modules and the vendor
 * packages are served; nothing outside the page folder is, however the path is spelled; and
 * every import of every page module resolves to something served, so a typo in a module name
 * or in the import map breaks this test and not only the browser.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { pageAsset, VENDOR_MODULES } from '../../../app/console/page-assets.ts';

const PAGE_DIR = new URL('../../../app/console/page/', import.meta.url);

function importMap(): Record<string, string> {
  const html = readFileSync(new URL('index.html', PAGE_DIR), 'utf8');
  const json = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (json === undefined) throw new Error('index.html has no import map');
  return (JSON.parse(json) as { imports: Record<string, string> }).imports;
}

describe('the console page assets', () => {
  it('serves the page at / and its files under /page/ with their content types', async () => {
    expect((await pageAsset('/'))?.contentType).toBe('text/html; charset=utf-8');
    expect((await pageAsset('/'))?.body.toString('utf8')).toContain('<script type="module" src="/page/main.js">');
    expect((await pageAsset('/page/main.js'))?.contentType).toBe('text/javascript; charset=utf-8');
    expect((await pageAsset('/page/console.css'))?.contentType).toBe('text/css; charset=utf-8');
    expect(await pageAsset('/page/missing.js')).toBeUndefined();
    expect(await pageAsset('/page/')).toBeUndefined();
  });

  it('serves each vendor module as the ESM file a Node import of its package loads', async () => {
    for (const [name, specifier] of Object.entries(VENDOR_MODULES)) {
      const asset = await pageAsset(`/vendor/${name}`);
      expect(asset?.contentType).toBe('text/javascript; charset=utf-8');
      expect(asset?.body.equals(readFileSync(new URL(import.meta.resolve(specifier))))).toBe(true);
    }
    expect(await pageAsset('/vendor/nothing.mjs')).toBeUndefined();
  });

  it('serves nothing outside the page folder, nor an inherited property of the vendor table', async () => {
    for (const path of [
      '/page/../page-assets.ts',
      '/page/../../../package.json',
      '/page/%2e%2e/page-assets.ts',
      '/page/..%2fpage-assets.ts',
      '/page//etc/passwd',
      '/page/../page/../page-assets.ts',
      '/vendor/constructor',
      '/vendor/__proto__',
      '/vendor/toString',
      '/vendor/../page-assets.ts',
      '/package.json',
      '/app/console/page-assets.ts',
    ]) {
      expect({ path, asset: await pageAsset(path) }).toEqual({ path, asset: undefined });
    }
  });

  it('names every vendor module in the import map, and every import of the page modules resolves to a served file', async () => {
    const imports = importMap();
    expect(Object.values(imports).sort()).toEqual(Object.keys(VENDOR_MODULES).map((name) => `/vendor/${name}`).sort());
    for (const [bare, url] of Object.entries(imports)) expect(VENDOR_MODULES[url.slice('/vendor/'.length)]).toBe(bare);

    const modules = readdirSync(PAGE_DIR).filter((file) => file.endsWith('.js'));
    expect(modules).toContain('main.js');
    for (const module of modules) {
      const source = readFileSync(new URL(module, PAGE_DIR), 'utf8');
      for (const [, specifier] of source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)) {
        const url = specifier!.startsWith('./') ? `/page/${specifier!.slice(2)}` : imports[specifier!];
        expect({ module, specifier, served: url !== undefined && (await pageAsset(url)) !== undefined }).toEqual({ module, specifier, served: true });
      }
    }
  });
});
