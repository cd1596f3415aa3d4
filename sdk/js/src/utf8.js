// UTF-8 without relying on TextEncoder/TextDecoder (QuickJS may not have them).

export function encode(text) {
  const s = String(text);
  if (typeof TextEncoder === 'function') return new TextEncoder().encode(s);
  const out = [];
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

export function decode(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes ?? []);
  if (typeof TextDecoder === 'function') return new TextDecoder().decode(b);
  let out = '';
  for (let i = 0; i < b.length; ) {
    const x = b[i];
    let c;
    let n;
    if (x < 0x80) [c, n] = [x, 1];
    else if (x >= 0xc2 && x < 0xe0) [c, n] = [x & 31, 2];
    else if (x >= 0xe0 && x < 0xf0) [c, n] = [x & 15, 3];
    else if (x >= 0xf0 && x < 0xf5) [c, n] = [x & 7, 4];
    else {
      out += '\ufffd';
      i += 1;
      continue;
    }
    let ok = i + n <= b.length;
    for (let k = 1; ok && k < n; k += 1) {
      if ((b[i + k] & 0xc0) !== 0x80) ok = false;
      else c = (c << 6) | (b[i + k] & 63);
    }
    if (!ok) {
      out += '\ufffd';
      i += 1;
      continue;
    }
    out += String.fromCodePoint(c);
    i += n;
  }
  return out;
}
