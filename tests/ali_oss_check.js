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

async function scenario(name, options, expectVersion) {
  await control('POST', 'reset');
  const client = new OSS(Object.assign({
    accessKeyId: 'test-ak',
    accessKeySecret: 'test-secret',
    bucket: BUCKET,
    timeout: 30000,
  }, options));
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

  // Every request must have been signed with the expected version and accepted.
  const log = (await control('GET', 'log')).body;
  const ops = {};
  for (const e of log) {
    ops[e.op] = (ops[e.op] || 0) + 1;
    if (e.sign_version !== expectVersion) fail(`${name}: ${e.op} signed with V${e.sign_version}`);
    if (e.status >= 300) fail(`${name}: ${e.op} -> ${e.status} ${e.code}`);
  }
  if (!ops.UploadPart || ops.UploadPart !== 4) fail(`${name}: expected 4 UploadPart, saw ${JSON.stringify(ops)}`);
  if (!ops.CompleteMultipartUpload) fail(`${name}: no CompleteMultipartUpload`);
  const hosts = [...new Set(log.map((e) => e.host))].join(', ');
  console.log(`ali_oss_check: ${name}: ok (${log.length} requests, V${expectVersion}, Host: ${hosts}; ops ${JSON.stringify(ops)})`);
}

async function expectRejected(name, options, code) {
  const client = new OSS(Object.assign({ accessKeyId: 'test-ak', accessKeySecret: 'test-secret', bucket: BUCKET }, options));
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
