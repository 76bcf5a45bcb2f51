// Bundles the browser side (src/web/client) into dist/web with esbuild: the
// station page, the self-service page and the stylesheet. Drivers and the
// pure-TS SM4 come in unchanged; any node: import is an error here.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/web`;
mkdirSync(outdir, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: { station: 'src/web/client/station.ts', selfservice: 'src/web/client/selfservice.ts' },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  outdir,
  sourcemap: true,
  minify: false,
  logLevel: 'warning',
  // Nothing for Node may reach the page: fail the build instead of shipping a broken bundle.
  external: [],
});
copyFileSync(`${root}src/web/client/app.css`, `${outdir}/app.css`);
console.error(`web client bundled into ${outdir}`);
