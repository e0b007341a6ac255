// Runs API Extractor once per entry point of the package's `exports` map and keeps one API
// report per entry in etc/api/. With --local the reports are rewritten; without it (as in
// `npm test`) a public API that differs from its checked-in report fails the run.
import { readFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
const local = process.argv.includes('--local');
mkdirSync(resolve(root, 'etc/api'), { recursive: true });
mkdirSync(resolve(root, 'temp'), { recursive: true });

let failed = 0;
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target !== 'object' || target.types === undefined) continue;
  const name = subpath === '.' ? 'portcullis' : `portcullis-${subpath.slice(2).replaceAll('/', '-')}`;
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: root,
      mainEntryPointFilePath: resolve(root, target.types),
      compiler: { tsconfigFilePath: resolve(root, 'tsconfig.build.json') },
      apiReport: { enabled: true, reportFolder: resolve(root, 'etc/api'), reportTempFolder: resolve(root, 'temp'), reportFileName: `${name}.api.md` },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        extractorMessageReporting: {
          default: { logLevel: 'warning' },
          'ae-missing-release-tag': { logLevel: 'none' },
          'ae-forgotten-export': { logLevel: 'none' },
          'ae-undocumented': { logLevel: 'none' },
        },
        tsdocMessageReporting: { default: { logLevel: 'none' } },
      },
    },
    configObjectFullPath: resolve(root, 'api-extractor.json'),
    packageJsonFullPath: resolve(root, 'package.json'),
  });
  const result = Extractor.invoke(config, { localBuild: local, showVerboseMessages: false });
  if (!result.succeeded) {
    failed += 1;
    console.error(
      result.apiReportChanged
        ? `API of "${subpath}" changed: run \`npm run api\` and commit etc/api/${name}.api.md`
        : `API Extractor failed for "${subpath}" (${result.errorCount} errors, ${result.warningCount} warnings)`,
    );
  }
}
process.exitCode = failed === 0 ? 0 : 1;
