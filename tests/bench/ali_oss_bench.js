// ali_oss_bench.js - one upload with the official ali-oss SDK, for the bench.
//
//   node tests/bench/ali_oss_bench.js PORT FILE KEY PART_SIZE PARALLEL
//
// Uploads FILE as oss://bench/KEY through client.multipartUpload() with the given part
// size (bytes) and parallelism, against the bench sink on 127.0.0.1:PORT (virtual-hosted
// addressing: ali-oss sends Host: bench.oss-cn-hangzhou.aliyuncs.com to the IP, see
// tests/ali_oss_check.js). ali-oss is loaded from tests/.node/, where the bench installs
// it with npm. Exit status 0 on success.
'use strict';

const path = require('path');

const OSS = require(path.join(__dirname, '..', '.node', 'node_modules', 'ali-oss'));

async function main() {
  const [port, file, key, partSize, parallel] = process.argv.slice(2);
  if (!parallel) {
    console.error('usage: node ali_oss_bench.js PORT FILE KEY PART_SIZE PARALLEL');
    process.exit(2);
  }
  const client = new OSS({
    accessKeyId: 'bench-ak',
    accessKeySecret: 'bench-secret',
    bucket: 'bench',
    endpoint: `http://127.0.0.1:${port}`,
    timeout: 600000,
  });
  const result = await client.multipartUpload(key, file, {
    partSize: Number(partSize),
    parallel: Number(parallel),
  });
  if (result.res.status !== 200) throw new Error(`multipartUpload answered ${result.res.status}`);
}

main().catch((err) => {
  console.error(`ali_oss_bench: ${err.code || ''} ${err.message}`);
  process.exit(1);
});
