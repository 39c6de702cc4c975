// Makes the small media files the examples use (examples/assets/), so the repository
// ships its own footage, music and logo. Run: npm run examples
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCanvas } from '@napi-rs/canvas';
import { runFfmpeg } from '../src/media/index.ts';
import { loadBundledFonts } from '../src/render/fonts.ts';

const dir = join(import.meta.dirname, 'assets');

// "city.mp4": 8 s of moving test footage, 960x540 at 30 fps, with a quiet hum
await runFfmpeg([
  '-f',
  'lavfi',
  '-i',
  'testsrc2=s=960x540:r=30:d=8',
  '-f',
  'lavfi',
  '-i',
  'sine=f=110:r=48000:d=8',
  '-vf',
  'hue=s=0.6',
  '-c:v',
  'libx264',
  '-preset',
  'veryfast',
  '-crf',
  '30',
  '-pix_fmt',
  'yuv420p',
  '-c:a',
  'aac',
  '-b:a',
  '64k',
  '-movflags',
  '+faststart',
  join(dir, 'city.mp4'),
]);

// "upbeat.mp3": 8 s of a major chord pulsing at 120 bpm
await runFfmpeg([
  '-f',
  'lavfi',
  '-i',
  "aevalsrc='0.2*(sin(2*PI*261.63*t)+sin(2*PI*329.63*t)+sin(2*PI*392*t))*(0.6+0.4*cos(4*PI*t))':s=44100:d=8",
  '-c:a',
  'libmp3lame',
  '-b:a',
  '96k',
  join(dir, 'upbeat.mp3'),
]);

// "logo-white.png": a white wordmark on transparency, 400x120
loadBundledFonts();
const canvas = createCanvas(400, 120);
const ctx = canvas.getContext('2d');
ctx.fillStyle = '#ffffff';
ctx.font = '800 84px Inter';
ctx.textBaseline = 'middle';
ctx.fillText('SUMMER', 8, 62);
await writeFile(join(dir, 'logo-white.png'), await canvas.encode('png'));
console.log(`assets written to ${dir}`);
