// ali_oss_check.js - drive tests/oss_server.py with the official ali-oss SDK.
//
// Run through ali_oss_check.sh, which installs ali-oss into tests/.node/ and
// starts the server; this script reads the server port from OSS_PORT.
//
// How ali-oss addresses a local server (ali-oss 6.x, lib/common/utils/createRequest.js
// and lib/common/client/getReqUrl.js):
//   * endpoint "http://127.0.0.1:PORT" (an IP): the request goes to the IP, the
//     path is "/<key>", and the SDK overrides the Host header with
//     "<bucket>.oss-<region>.aliyuncs.com" - a virtual-hosted request, which the
//     server resolves from the first Host label.
//   * endpoint "http://localhost:PORT" with sldEnable: true: path style,
//     "/<bucket>/<key>" with Host "localhost:PORT".
// Both are signed over "/<bucket>/<key>"; the server verifies every signature.
'use strict';

const path = require('path');
const fs = require('fs');
const os = require('os');
const http = require('http');
const crypto = require('crypto');

const OSS = require(path.join(__dirname, '.node', 'node_modules', 'ali-oss'));

const PORT = Number(process.env.OSS_PORT);
const BUCKET = 'ali-check-bucket';
let failures = 0;

function fail(msg) {
  failures += 1;
  console.log(`ali_oss_check: FAIL ${msg}`);
}

function control(method, p) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: PORT, method, path: `/_ossr/${p}` }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    });
    req.on('error', reject);
    req.end();
  });
}

function pattern(n, seed) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 1) b[i] = (i * 131 + seed) & 0xff;
  return b;
}

const md5hex = (buf) => crypto.createHash('md5').update(buf).digest('hex');

// A client of BUCKET with the test key pair; options add to these or override them.
function newClient(options) {
  return new OSS(Object.assign({
    accessKeyId: 'test-ak',
    accessKeySecret: 'test-secret',
    bucket: BUCKET,
    timeout: 30000,
  }, options));
}

// The server's log, each request of which must have been signed with expectVersion and
// accepted, and how many requests of each operation it holds.
async function checkedLog(name, expectVersion) {
  const log = (await control('GET', 'log')).body;
  const ops = {};
  for (const e of log) {
    ops[e.op] = (ops[e.op] || 0) + 1;
    if (e.sign_version !== expectVersion) fail(`${name}: ${e.op} signed with V${e.sign_version}`);
    if (e.status >= 300) fail(`${name}: ${e.op} -> ${e.status} ${e.code}`);
  }
  return { log, ops };
}

async function scenario(name, options, expectVersion) {
  await control('POST', 'reset');
  const client = newClient(options);
  const tag = name.replace(/[^a-z0-9]+/gi, '-');

  // Small PutObject, Get, Head.
  const small = Buffer.from(`hello from ali-oss (${name}) \u00fc\u5199`, 'utf8');
  const smallKey = `ali/${tag}/small file+1.txt`;
  const put = await client.put(smallKey, small);
  if (put.res.status !== 200) fail(`${name}: put status ${put.res.status}`);
  const got = await client.get(smallKey);
  if (!Buffer.from(got.content).equals(small)) fail(`${name}: get returned different bytes`);
  const head = await client.head(smallKey);
  if (String(head.res.headers['content-length']) !== String(small.length)) fail(`${name}: head content-length`);

  // Multipart upload: 350 KiB in 100 KiB parts, two in parallel.
  const big = Buffer.concat([pattern(102400, 1), pattern(102400, 2), pattern(102400, 3), pattern(51200, 4)]);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ali-oss-check-')), 'big.bin');
  fs.writeFileSync(file, big);
  const bigKey = `ali/${tag}/multi part.bin`;
  const mp = await client.multipartUpload(bigKey, file, { partSize: 102400, parallel: 2 });
  if (mp.res.status !== 200) fail(`${name}: multipartUpload status ${mp.res.status}`);
  const back = await client.get(bigKey);
  if (!Buffer.from(back.content).equals(big)) fail(`${name}: multipart object differs after get`);
  const obj = await control('GET', `object?bucket=${BUCKET}&key=${encodeURIComponent(bigKey)}`);
  if (obj.status !== 200 || obj.body.md5 !== md5hex(big) || obj.body.size !== big.length) {
    fail(`${name}: server-side object wrong: ${JSON.stringify(obj.body)}`);
  }
  if (obj.body && obj.body.type !== 'Multipart') fail(`${name}: object type ${obj.body.type}`);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });

  await client.delete(smallKey);

  const { log, ops } = await checkedLog(name, expectVersion);
  if (!ops.UploadPart || ops.UploadPart !== 4) fail(`${name}: expected 4 UploadPart, saw ${JSON.stringify(ops)}`);
  if (!ops.CompleteMultipartUpload) fail(`${name}: no CompleteMultipartUpload`);
  const hosts = [...new Set(log.map((e) => e.host))].join(', ');
  console.log(`ali_oss_check: ${name}: ok (${log.length} requests, V${expectVersion}, Host: ${hosts}; ops ${JSON.stringify(ops)})`);
}

// ListMultipartUploads (listUploads), ListParts (its LastModified) and AbortMultipartUpload.
async function uploadsScenario(name, options, expectVersion) {
  await control('POST', 'reset');
  const client = newClient(options);
  const prefix = `ali/uploads/${name.replace(/[^a-z0-9]+/gi, '-')}/`;
  const made = [];
  for (const k of ['b', 'a', 'c d/e', 'a']) {
    const init = await client.initMultipartUpload(prefix + k);
    made.push({ name: prefix + k, uploadId: init.uploadId });
  }
  const outside = await client.initMultipartUpload(`ali/elsewhere/${name.length}`);
  // by key, then in initiation order
  const want = made.map((u, i) => ({ u, i }))
    .sort((x, y) => (x.u.name < y.u.name ? -1 : x.u.name > y.u.name ? 1 : x.i - y.i))
    .map((x) => `${x.u.name} ${x.u.uploadId}`);

  // ListParts: ali-oss reads the part list; LastModified is ISO 8601 with .000Z
  const first = made[1];
  const partData = pattern(2000, 7);
  const partDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ali-oss-check-'));
  const partFile = path.join(partDir, 'part.bin');
  fs.writeFileSync(partFile, partData);
  const up = await client.uploadPart(first.name, first.uploadId, 1, partFile, 0, partData.length);
  fs.rmSync(partDir, { recursive: true, force: true });
  const lp = await client.listParts(first.name, first.uploadId, { 'max-parts': 1000 });
  const parts = Array.isArray(lp.parts) ? lp.parts : [lp.parts];
  if (parts.length !== 1 || String(parts[0].PartNumber) !== '1' || parts[0].ETag !== up.etag
      || String(parts[0].Size) !== '2000') {
    fail(`${name}: listParts gave ${JSON.stringify(lp.parts)}`);
  }
  const lm = String(parts[0] && parts[0].LastModified);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/.test(lm) || Number.isNaN(Date.parse(lm))
      || Math.abs(Date.parse(lm) - Date.now()) > 120000) {
    fail(`${name}: LastModified ${lm}`);
  }

  // one page
  const all = await client.listUploads({ prefix, 'max-uploads': 1000 });
  const got = all.uploads.map((u) => `${u.name} ${u.uploadId}`);
  if (JSON.stringify(got) !== JSON.stringify(want)) fail(`${name}: listUploads ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
  if (all.isTruncated) fail(`${name}: a full listing says truncated`);
  if (all.bucket !== BUCKET) fail(`${name}: listUploads bucket ${all.bucket}`);
  for (const u of all.uploads) {
    if (!/\.000Z$/.test(String(u.initiated))) fail(`${name}: Initiated ${u.initiated}`);
  }

  // paging one upload at a time with key-marker and upload-id-marker
  const paged = [];
  let query = { prefix, 'max-uploads': 1 };
  for (let i = 0; i < 10; i += 1) {
    const page = await client.listUploads(query);
    if (page.uploads.length !== 1) { fail(`${name}: page ${i} has ${page.uploads.length} uploads`); break; }
    paged.push(`${page.uploads[0].name} ${page.uploads[0].uploadId}`);
    if (!page.isTruncated) break;
    query = { prefix, 'max-uploads': 1, 'key-marker': page.nextKeyMarker, 'upload-id-marker': page.nextUploadIdMarker };
  }
  if (JSON.stringify(paged) !== JSON.stringify(want)) fail(`${name}: paged listing ${JSON.stringify(paged)}`);

  // abort every one; the listing is then empty, the upload outside the prefix stays
  for (const u of made) {
    const r = await client.abortMultipartUpload(u.name, u.uploadId);
    if (r.res.status !== 204) fail(`${name}: abort status ${r.res.status}`);
  }
  const after = await client.listUploads({ prefix });
  if (after.uploads.length !== 0) fail(`${name}: uploads left after abort: ${JSON.stringify(after.uploads)}`);
  const open = (await control('GET', 'uploads')).body;
  if (!open[outside.uploadId] || Object.keys(open).length !== 1) fail(`${name}: server uploads ${JSON.stringify(open)}`);
  await client.abortMultipartUpload(`ali/elsewhere/${name.length}`, outside.uploadId);

  const { log, ops } = await checkedLog(name, expectVersion);
  if (ops.ListMultipartUploads !== 6) fail(`${name}: expected 6 ListMultipartUploads, saw ${JSON.stringify(ops)}`);
  if (ops.AbortMultipartUpload !== 5) fail(`${name}: expected 5 AbortMultipartUpload, saw ${JSON.stringify(ops)}`);
  console.log(`ali_oss_check: ${name}: ok (${log.length} requests, V${expectVersion}; ops ${JSON.stringify(ops)})`);
}

async function expectRejected(name, options, code) {
  const client = newClient(options);
  try {
    await client.put('ali/rejected.txt', Buffer.from('x'));
    fail(`${name}: request was accepted`);
  } catch (err) {
    if (err.code !== code) fail(`${name}: expected ${code}, got ${err.code} (${err.message})`);
    else console.log(`ali_oss_check: ${name}: ok (rejected with ${err.code})`);
  }
}

async function main() {
  const ip = `http://127.0.0.1:${PORT}`;
  const v4 = { authorizationV4: true, region: 'oss-cn-hangzhou' };
  await scenario('V1 IP endpoint (virtual-hosted Host)', { endpoint: ip }, 1);
  await scenario('V4 IP endpoint (virtual-hosted Host)', Object.assign({ endpoint: ip }, v4), 4);
  await scenario('V4 other region', { endpoint: ip, authorizationV4: true, region: 'oss-ap-southeast-1' }, 4);
  await scenario('V1 path style (localhost, sldEnable)', { endpoint: `http://localhost:${PORT}`, sldEnable: true }, 1);
  await scenario('V4 path style (localhost, sldEnable)',
    Object.assign({ endpoint: `http://localhost:${PORT}`, sldEnable: true }, v4), 4);
  await scenario('V4 STS token', Object.assign({
    endpoint: ip, accessKeyId: 'sts-ak', accessKeySecret: 'sts-secret', stsToken: 'sts-token',
    refreshSTSTokenInterval: 3600000,
  }, v4), 4);
  await scenario('V1 STS token', {
    endpoint: ip, accessKeyId: 'sts-ak', accessKeySecret: 'sts-secret', stsToken: 'sts-token',
    refreshSTSTokenInterval: 3600000,
  }, 1);
  await uploadsScenario('uploads V1 IP endpoint', { endpoint: ip }, 1);
  await uploadsScenario('uploads V4 IP endpoint', Object.assign({ endpoint: ip }, v4), 4);
  await uploadsScenario('uploads V4 path style', Object.assign({ endpoint: `http://localhost:${PORT}`, sldEnable: true }, v4), 4);
  await uploadsScenario('uploads V1 path style', { endpoint: `http://localhost:${PORT}`, sldEnable: true }, 1);
  // Negative checks: the signatures are really verified.
  await expectRejected('V1 wrong secret', { endpoint: ip, accessKeySecret: 'wrong' }, 'SignatureDoesNotMatch');
  await expectRejected('V4 wrong secret', Object.assign({ endpoint: ip, accessKeySecret: 'wrong' }, v4),
    'SignatureDoesNotMatch');
  await expectRejected('STS without token', { endpoint: ip, accessKeyId: 'sts-ak', accessKeySecret: 'sts-secret' },
    'InvalidSecurityToken');
}

main().then(() => {
  if (failures) {
    console.log(`ali_oss_check: ${failures} failure(s)`);
    process.exit(1);
  }
  console.log('ali_oss_check: all checks passed');
}, (err) => {
  console.log(`ali_oss_check: FAIL ${err.code || ''} ${err.message}`);
  if (err.params || err.requestId) console.log(JSON.stringify({ status: err.status, requestId: err.requestId }));
  process.exit(1);
});
