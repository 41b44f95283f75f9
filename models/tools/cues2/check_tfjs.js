// Run the original tfjs graph model (pure-JS CPU backend) on a raw NHWC float32 input, dump the stage outputs.
// Usage: NODE_PATH=models/.work/cues2/node/node_modules node check_tfjs.js <pkg dir> <in.f32> <size> <out prefix>
const fs = require('fs');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tfc = require('@tensorflow/tfjs-converter');
(async () => {
  const [pkg, inp, size, out] = process.argv.slice(2);
  await tf.setBackend('cpu');
  const j = JSON.parse(fs.readFileSync(`${pkg}/models/centernet.json`));
  // the graph declares a fixed 1x512x512x3 input; the backbone is fully convolutional, so relax it to the test size
  for (const n of j.modelTopology.node) if (n.name === 'tower_0/images' && n.attr.shape) n.attr.shape.shape.dim = [1, +size, +size, 3].map((v) => ({ size: String(v) }));
  j.signature.inputs['tower_0/images'].tensorShape.dim = [1, +size, +size, 3].map((v) => ({ size: String(v) }));
  const specs = [].concat(...j.weightsManifest.map((g) => g.weights));
  const bin = Buffer.concat([].concat(...j.weightsManifest.map((g) => g.paths.map((p) => fs.readFileSync(`${pkg}/models/${p}`)))));
  const ab = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  const model = await tfc.loadGraphModel(tf.io.fromMemory({ modelTopology: j.modelTopology, weightSpecs: specs, weightData: ab }));
  const raw = fs.readFileSync(inp);
  const x = tf.tensor(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), [1, +size, +size, 3]);
  const names = ['tower_0/MobilenetV3/expanded_conv_5/add', 'tower_0/MobilenetV3/expanded_conv_11/add', 'tower_0/MobilenetV3/expanded_conv_14/add'];
  const t0 = Date.now();
  const res = model.execute({ 'tower_0/images': x }, names);
  const ms = Date.now() - t0;
  for (let i = 0; i < 3; i++) {
    const d = await res[i].data();
    fs.writeFileSync(`${out}_s${[8, 16, 32][i]}.f32`, Buffer.from(d.buffer));
    console.log(names[i], res[i].shape.join('x'));
  }
  console.log('tfjs-core', tf.version_core, 'backend', tf.getBackend(), 'ms', ms);
  if (+size === 512) {  // sanity check of the input convention (0..255 RGB): full detector, top detections
    const det = await model.execute({ 'tower_0/images': x }, 'tower_0/detections').array();
    console.log('top detections [x1,y1,x2,y2,score,class]:', JSON.stringify(det[0].slice(0, 3).map((r) => r.map((v) => +v.toFixed(2)))));
  }
})();
