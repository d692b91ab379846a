// files.js: evidence files carried apart from their records
// (docs/framework.md "Evidence files", docs/ui.md "Evidence files"),
// sealed and opened here in the browser, never seen in clear by the node.
//
//   sealFile     a File (read from disk as a stream) -> an age file to
//                the case's parties and the author, kept as a Blob, with
//                the SHA-256 and size that name it
//   uploadFile   POST /v1/files?case=ID, the hash in Comity-Sha256 and
//                the size in Content-Length, with upload progress
//   attachFile   POST /v1/files/SHA/attach?record=ID, once the record
//                that lists the file is sent
//   fetchFile    GET /v1/files/SHA, hashed and opened as it arrives; the
//                plaintext as a Blob, only when the age file is the one
//                the record names
//
// Memory: neither the plaintext nor the age file is held whole in
// JavaScript.  The File is read in pieces; the age file (and, on a fetch,
// the plaintext) goes, 8 MiB at a time, into Blobs, which the browser
// keeps in its own blob storage (Chromium pages large ones out to files
// of the profile).  What bounds a file here is that storage and
// UI_FILE_MAX below; larger files go with `comity case upload` / `fetch`.

import { sha256 } from '@noble/hashes/sha2.js';
import { Encrypter, Decrypter } from 'age-encryption';
import { S, ApiError } from './api.js';

export const UI_FILE_MAX = 2 * 1024 * 1024 * 1024; // the age file, in bytes
const PART = 8 * 1024 * 1024; // bytes gathered in JavaScript before they become a Blob

// A progress callback called only when the whole percentage changes (a
// large file has tens of thousands of chunks; the screen needs 101 steps).
export function perPercent(fn) {
  let last = -1;
  return (done, total) => {
    const p = total ? Math.floor((100 * done) / total) : 0;
    if (p !== last) { last = p; fn(done, total); }
  };
}

const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

// A stream's bytes as one Blob, gathered PART bytes at a time; `each`
// sees every piece on its way (hashing, progress).
async function toBlob(stream, each) {
  const blobs = [];
  let parts = [], held = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    each(value);
    parts.push(value);
    held += value.length;
    if (held >= PART) { blobs.push(new Blob(parts)); parts = []; held = 0; }
  }
  blobs.push(new Blob(parts));
  return new Blob(blobs, { type: 'application/octet-stream' });
}

// Seals File `file` to the age recipients: {blob, sha256, size} of the age
// file.  An age file over `max` bytes (known before any byte is read: the
// header, the nonce, 16 bytes per 64 KiB chunk) throws a TooBig.
// onProgress(bytesSealed, plainSize).
export class TooBig extends Error {
  constructor(size, max) { super(`the sealed file would be ${size} bytes, over the cap of ${max}`); this.size = size; this.max = max; }
}
export async function sealFile(file, recipients, max, onProgress) {
  const e = new Encrypter();
  for (const r of new Set(recipients)) e.addRecipient(r);
  let read = 0;
  const counted = file.stream().pipeThrough(new TransformStream({
    transform(chunk, c) { read += chunk.length; onProgress(read, file.size); c.enqueue(chunk); },
  }));
  const h = sha256.create();
  let size = 0;
  const sealed = await e.encrypt(counted);
  const want = sealed.size(file.size);
  if (want > max) { await sealed.cancel(); throw new TooBig(want, max); }
  const blob = await toBlob(sealed, (b) => { h.update(b); size += b.length; });
  return { blob, sha256: hex(h.digest()), size };
}

// Sends an age file for case `caseId` in one request: the node checks the
// hash and size before keeping it, and keeps it visible to no one until
// attachFile().  onProgress(bytesSent, size).  The node's answer, or an
// ApiError.
export function uploadFile(caseId, sealed, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', `/v1/files?case=${encodeURIComponent(caseId)}`);
    x.setRequestHeader('X-Comity-UI', '1');
    x.setRequestHeader('X-CSRF-Token', S.csrf || '');
    x.setRequestHeader('Comity-Sha256', sealed.sha256);
    x.setRequestHeader('Content-Type', 'application/octet-stream');
    x.upload.onprogress = (ev) => onProgress(ev.loaded, sealed.size);
    x.onload = () => {
      let body = null;
      try { body = JSON.parse(x.responseText); } catch { /* not JSON */ }
      if (x.status === 200 || x.status === 201) resolve(body);
      else reject(new ApiError(x.status, body));
    };
    x.onerror = () => reject(new Error('the upload was cut off: send it again'));
    x.send(sealed.blob);
  });
}

// Attaches a file sent by uploadFile() to the record that lists it.
export async function attachFile(sha, recordId) {
  const r = await fetch(`/v1/files/${sha}/attach?record=${encodeURIComponent(recordId)}`, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'X-Comity-UI': '1', 'X-CSRF-Token': S.csrf || '' },
  });
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, body);
  return body;
}

// Fetches file `sha` (the SHA-256 of its age file, `size` its size as the
// record says) and opens it with the key's identity: a Blob of the
// plaintext.  Throws an ApiError as the node answered (404 not visible,
// 410 destroyed: body.destroyed, body.record, body.by), or an Error when
// the bytes are not the file the record names or do not open.
export async function fetchFile(key, sha, size, onProgress) {
  const r = await fetch(`/v1/files/${sha}`, { credentials: 'same-origin', headers: { 'X-Comity-UI': '1' } });
  if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => null));
  const total = Number(r.headers.get('Content-Length')) || size || 0;
  const h = sha256.create();
  let got = 0;
  const hashed = r.body.pipeThrough(new TransformStream({
    transform(chunk, c) { h.update(chunk); got += chunk.length; onProgress(got, total); c.enqueue(chunk); },
  }));
  const d = new Decrypter();
  d.addIdentity(key.identity);
  const blob = await toBlob(await d.decrypt(hashed), () => {});
  const digest = hex(h.digest());
  if (digest !== sha || (size !== undefined && got !== size))
    throw new Error(`the node sent ${got} bytes hashing to ${digest.slice(0, 16)}…, not the file the record names`);
  return blob;
}
