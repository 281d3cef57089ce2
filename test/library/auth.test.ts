/** The Library's security configuration as read from the environment. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadAuthConfig } from '../../src/library/auth.ts';

t.test('the secret key comes from SECRET_KEY, else from the file SECRET_KEY_FILE names (as Compose provides it)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fastrest-secret-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'secret_key');
  writeFileSync(file, 'a-key-from-the-shared-volume-of-48-characters-xx\n');
  t.equal(loadAuthConfig({ SECRET_KEY_FILE: file }).secretKey, 'a-key-from-the-shared-volume-of-48-characters-xx', 'read and trimmed');
  t.equal(loadAuthConfig({ SECRET_KEY: 'set-in-the-environment-wins-over-the-file-xxxxx', SECRET_KEY_FILE: file }).secretKey, 'set-in-the-environment-wins-over-the-file-xxxxx');
  t.equal(loadAuthConfig({ SECRET_KEY: '', SECRET_KEY_FILE: file }).secretKey, 'a-key-from-the-shared-volume-of-48-characters-xx', 'an empty SECRET_KEY (Compose passes ${SECRET_KEY:-}) falls back to the file');
  t.equal(loadAuthConfig({}).secretKey, null, 'neither: a random key per process');
  t.throws(() => loadAuthConfig({ SECRET_KEY_FILE: join(dir, 'missing') }), { code: 'ENOENT' }, 'a file named but missing stops the start');
});
