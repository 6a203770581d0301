/** The browser tests' Chromium: CHROMIUM_PATH overrides Debian's, and a missing one fails with how to install it. */
import { afterEach, describe, expect, it } from '@jest/globals';
import { chromiumPath, launchChromium } from '../../integration/console/browser.ts';

describe("the browser tests' Chromium", () => {
  const saved = process.env.CHROMIUM_PATH;
  afterEach(() => {
    if (saved === undefined) delete process.env.CHROMIUM_PATH;
    else process.env.CHROMIUM_PATH = saved;
  });

  it("is Debian's /usr/bin/chromium unless CHROMIUM_PATH names another", () => {
    expect(chromiumPath({})).toBe('/usr/bin/chromium');
    expect(chromiumPath({ CHROMIUM_PATH: '/opt/chrome/chrome' })).toBe('/opt/chrome/chrome');
  });

  it('fails, naming the path and how to install one, when there is none', async () => {
    process.env.CHROMIUM_PATH = '/nonexistent/chromium';
    await expect(launchChromium()).rejects.toThrow('no Chromium at /nonexistent/chromium: install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH to a Chromium or Chrome executable');
  });
});
