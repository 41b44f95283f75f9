// Reference outputs from face-api itself (node-wasm build, tfjs CPU backend).
// Usage: node faceapi_reference.js MODEL_DIR CHIPS.f32 N SIZE OUT.json
//   CHIPS.f32: N x SIZE x SIZE x 3 float32 little-endian, RGB 0-255, NHWC.
//   SIZE 150: FaceRecognitionNet -> embedding (computeFaceDescriptor) and the
//             conv128_2 output avg-pooled 2x2 (re-run of the JS forward with the
//             net's own params, checked bitwise against computeFaceDescriptor).
//   SIZE 112: FaceLandmark68Net -> net output (runNet) and detectLandmarks.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');

// Same ops as src/faceRecognitionNet/{convLayer,scaleLayer,residualLayer}.ts
function convLayer(x, p, strides, withRelu, padding = 'same') {
  let out = tf.conv2d(x, p.conv.filters, strides, padding);
  out = tf.add(out, p.conv.bias);
  out = tf.add(tf.mul(out, p.scale.weights), p.scale.biases);
  return withRelu ? tf.relu(out) : out;
}
const conv = (x, p) => convLayer(x, p, [1, 1], true);
const convNoRelu = (x, p) => convLayer(x, p, [1, 1], false);
const convDown = (x, p) => convLayer(x, p, [2, 2], true, 'valid');
function residual(x, p) {
  let out = conv(x, p.conv1);
  out = convNoRelu(out, p.conv2);
  return tf.relu(tf.add(out, x));
}
function residualDown(x, p) {
  let out = convDown(x, p.conv1);
  out = convNoRelu(out, p.conv2);
  let pooled = tf.avgPool(x, 2, 2, 'valid');
  const zeros = tf.zeros(pooled.shape);
  const isPad = pooled.shape[3] !== out.shape[3];
  const isAdjustShape = pooled.shape[1] !== out.shape[1] || pooled.shape[2] !== out.shape[2];
  if (isAdjustShape) {
    const padShapeX = [...out.shape]; padShapeX[1] = 1;
    out = tf.concat([out, tf.zeros(padShapeX)], 1);
    const padShapeY = [...out.shape]; padShapeY[2] = 1;
    out = tf.concat([out, tf.zeros(padShapeY)], 2);
  }
  pooled = isPad ? tf.concat([pooled, zeros], 3) : pooled;
  return tf.relu(tf.add(pooled, out));
}
// src/faceRecognitionNet/FaceRecognitionNet.ts forwardInput, also returning conv128_2.
function recognitionForward(params, batch) {
  const meanRgb = [122.782, 117.001, 104.298];
  const [n, h, w] = batch.shape;
  const avg = tf.concat(meanRgb.map((m) => tf.fill([n, h, w, 1], m, 'float32')), 3);
  const normalized = tf.sub(batch, avg).div(255);
  let out = convDown(normalized, params.conv32_down);
  out = tf.maxPool(out, 3, 2, 'valid');
  out = residual(out, params.conv32_1);
  out = residual(out, params.conv32_2);
  out = residual(out, params.conv32_3);
  out = residualDown(out, params.conv64_down);
  out = residual(out, params.conv64_1);
  out = residual(out, params.conv64_2);
  out = residual(out, params.conv64_3);
  out = residualDown(out, params.conv128_down);
  out = residual(out, params.conv128_1);
  out = residual(out, params.conv128_2);
  const conv128 = out;
  out = residualDown(out, params.conv256_down);
  out = residual(out, params.conv256_1);
  out = residual(out, params.conv256_2);
  out = residualDown(out, params.conv256_down_out);
  const fc = tf.matMul(out.mean([1, 2]), params.fc);
  return { fc, conv128 };
}

async function main() {
  const [modelDir, chipsPath, nStr, sizeStr, outPath] = process.argv.slice(2);
  const n = Number(nStr);
  const size = Number(sizeStr);
  await tf.setBackend('cpu');
  await tf.ready();
  const buf = fs.readFileSync(chipsPath);
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  if (all.length !== n * size * size * 3) throw new Error('chip file size mismatch');
  const chip = (k) => tf.tensor3d(all.slice(k * size * size * 3, (k + 1) * size * size * 3), [size, size, 3], 'float32');
  const result = { backend: tf.getBackend(), tfjs: tf.version.tfjs, faceapi: faceapi.version, chips: [] };

  if (size === 150) {
    const net = faceapi.nets.faceRecognitionNet;
    await net.loadFromDisk(modelDir);
    let maxSelfDiff = 0;
    for (let k = 0; k < n; k += 1) {
      const t = chip(k);
      const descriptor = await net.computeFaceDescriptor(t);
      const { fc, conv128 } = recognitionForward(net.params, tf.expandDims(t));
      const own = fc.dataSync();
      for (let i = 0; i < 128; i += 1) maxSelfDiff = Math.max(maxSelfDiff, Math.abs(own[i] - descriptor[i]));
      const pooled = tf.avgPool(conv128, 2, 2, 'valid'); // [1,4,4,128] NHWC
      const chw = tf.transpose(pooled, [0, 3, 1, 2]).dataSync(); // channel-major
      result.chips.push({
        embedding: Array.from(descriptor),
        conv128_shape: conv128.shape,
        appearance: Array.from(chw),
      });
    }
    result.own_forward_vs_computeFaceDescriptor_max_abs_diff = maxSelfDiff;
  } else if (size === 112) {
    const net = faceapi.nets.faceLandmark68Net;
    await net.loadFromDisk(modelDir);
    for (let k = 0; k < n; k += 1) {
      const t = chip(k);
      const raw = net.runNet(await faceapi.toNetInput(t)).dataSync();
      const lm = await net.detectLandmarks(t);
      const rel = lm.relativePositions.flatMap((p) => [p.x, p.y]);
      result.chips.push({ net_output: Array.from(raw), detect_landmarks_relative: rel });
    }
  } else {
    throw new Error(`unsupported size ${size}`);
  }
  fs.writeFileSync(outPath, JSON.stringify(result));
  console.log(`face-api reference: ${n} chips of ${size}px, backend ${result.backend}, tfjs ${result.tfjs}, face-api ${result.faceapi} -> ${path.basename(outPath)}`);
}
main().catch((e) => { console.error(e); process.exit(1); });
