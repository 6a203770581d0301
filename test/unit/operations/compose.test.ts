import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';

/**
 * Docker is not on every machine that runs the tests, so the compose file is checked as data:
 * parsed as YAML (merge keys resolved, as compose does), interpolated from .env.example the
 * way compose reads .env, and held to the exposure rules.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  ports?: string[];
  environment?: Record<string, string | number | boolean>;
  healthcheck?: { test?: string[]; disable?: boolean };
  profiles?: string[];
  command?: string[];
}

function envFile(text: string): Map<string, string> {
  const entries = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const);
  return new Map(entries);
}

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}, $$ for a literal $. Throws on what compose would refuse. */
function interpolate(text: string, env: Map<string, string>): string {
  return text.replace(/\$\$|\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$/g, (match, braced: string | undefined, bare: string | undefined) => {
    if (match === '$$') return '$';
    if (bare !== undefined) return env.get(bare) ?? '';
    if (braced === undefined) throw new Error(`a lone "$" compose cannot interpolate near: ${text.slice(0, 80)}`);
    const parsed = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])(.*))?$/s.exec(braced);
    if (!parsed) throw new Error(`invalid interpolation \${${braced}}`);
    const [, name, operator, argument] = parsed;
    const value = env.get(name!);
    if (operator?.endsWith('?') && !value) throw new Error(`required variable ${name} is missing: ${argument}`);
    return value || (operator?.endsWith('-') ? argument! : '');
  });
}

const example = envFile(read('.env.example'));
const raw = read('docker-compose.yml');
const compose = parse(interpolate(raw, example), { merge: true }) as { services: Record<string, Service> };
const services = Object.entries(compose.services);
const APP_SERVICES = ['source', 'processor', 'relay'];

describe('docker-compose.yml', () => {
  it('parses, and every variable it requires is in .env.example', () => {
    expect(services.length).toBeGreaterThan(5);
    const required = [...raw.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):\?/g)].map((match) => match[1]!);
    expect(required.length).toBeGreaterThan(0);
    for (const name of new Set(required)) expect({ name, inExample: example.has(name) }).toEqual({ name, inExample: true });
    // Without .env, compose stops with the hint instead of starting with empty passwords.
    expect(() => interpolate(raw, new Map())).toThrow(/required variable POSTGRES_PASSWORD is missing: set it in \.env \(cp \.env\.example \.env\)/);
  });

  it('binds every published port to 127.0.0.1', () => {
    const published = services.flatMap(([name, service]) => (service.ports ?? []).map((port) => ({ name, port: String(port) })));
    expect(published.length).toBeGreaterThan(0);
    for (const entry of published) expect(entry.port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it('takes every password from the env file, with no trust auth, no anonymous Grafana admin and no pgAdmin without login', () => {
    const rawServices = (parse(raw, { merge: true }) as { services: Record<string, Service> }).services;
    const secrets = Object.entries(rawServices).flatMap(([name, service]) =>
      Object.entries(service.environment ?? {})
        .filter(([key]) => /PASSWORD/.test(key))
        .map(([key, value]) => ({ name, key, value: String(value) })),
    );
    expect(secrets.map((entry) => entry.key).sort()).toEqual(['GF_SECURITY_ADMIN_PASSWORD', 'PGADMIN_DEFAULT_PASSWORD', 'POSTGRES_PASSWORD', 'SPRING_SECURITY_USER_PASSWORD']);
    for (const entry of secrets) expect(entry).toEqual({ ...entry, value: expect.stringMatching(/^\$\{[A-Z_]+:\?/) });

    const postgres = compose.services.postgres!.environment!;
    expect(postgres.POSTGRES_HOST_AUTH_METHOD).toBeUndefined();
    const grafana = compose.services.grafana!.environment!;
    expect(String(grafana.GF_AUTH_ANONYMOUS_ENABLED) === 'false' || grafana.GF_AUTH_ANONYMOUS_ORG_ROLE === 'Viewer').toBe(true);
    expect(grafana.GF_AUTH_ANONYMOUS_ORG_ROLE).not.toBe('Admin');
    const pgadmin = compose.services.pgadmin!.environment!;
    expect(String(pgadmin.PGADMIN_CONFIG_SERVER_MODE ?? 'True')).not.toBe('False');
    expect(pgadmin.PGADMIN_DEFAULT_PASSWORD).not.toBe('admin');
    expect(compose.services['kafka-ui']!.environment!.AUTH_TYPE).toBe('LOGIN_FORM');
    // The app containers reach PostgreSQL with the password of .env.
    expect(compose.services.processor!.environment!.DATABASE_URL).toBe(`postgres://postgres:${example.get('POSTGRES_PASSWORD')}@postgres:5432/kstream`);
  });

  it('checks the app containers with the liveness endpoint, and lets Prometheus reach their metrics inside the compose network', () => {
    for (const name of APP_SERVICES) {
      const service = compose.services[name]!;
      expect({ name, test: service.healthcheck?.test?.join(' ') }).toEqual({ name, test: expect.stringContaining("process.env.METRICS_PORT + '/healthz'") });
      expect(service.healthcheck?.test?.join(' ')).not.toContain('/readyz');
      expect(service.environment).toMatchObject({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' });
      expect(service.ports).toBeUndefined();
    }
    expect(compose.services.migrate!.healthcheck).toEqual({ disable: true });
    const prometheus = parse(read('ops/monitoring/prometheus.yml')) as { scrape_configs: Array<{ dns_sd_configs: Array<{ names: string[]; port: number }> }> };
    expect(prometheus.scrape_configs[0]!.dns_sd_configs[0]).toMatchObject({ names: APP_SERVICES, port: 9464 });
  });

  it('the healthcheck script is valid JavaScript', () => {
    const script = compose.services.processor!.healthcheck!.test!.at(-1)!;
    expect(() => new Function(script)).not.toThrow();
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  it('checks liveness (/healthz), not readiness', () => {
    const healthcheck = dockerfile.slice(dockerfile.indexOf('HEALTHCHECK'));
    expect(healthcheck).toMatch(/\/healthz/);
    expect(healthcheck.split('\n').slice(0, 3).join('\n')).not.toMatch(/\/readyz/);
  });

  it('keeps .env out of the image and out of git', () => {
    expect(read('.dockerignore').split('\n')).toContain('.env');
    expect(read('.gitignore').split('\n')).toContain('.env');
  });
});
