export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __servicesStop?: () => Promise<void> }).__servicesStop?.();
}
