// The pseudo-locale: every English string with its letters accented and wrapped in brackets, e.g.
// "Settings" → "[Šéţţîñĝš ··]". A screen shown in it makes any string that skipped i18next stand
// out (plain ASCII words), and the padding shows where a longer translation would not fit.
// Interpolations ({{name}}), nesting ($t(key)) and markup tags (<1>…</1>) are kept as they are.
const ACCENTED: Record<string, string> = {
  a: 'á', b: 'ƀ', c: 'ç', d: 'ð', e: 'é', f: 'ƒ', g: 'ĝ', h: 'ĥ', i: 'î', j: 'ĵ', k: 'ķ', l: 'ļ', m: 'ɱ',
  n: 'ñ', o: 'ö', p: 'þ', q: 'ǫ', r: 'ŕ', s: 'š', t: 'ţ', u: 'û', v: 'ṽ', w: 'ŵ', x: 'ẋ', y: 'ý', z: 'ž',
  A: 'Å', B: 'Ɓ', C: 'Ç', D: 'Ð', E: 'É', F: 'Ƒ', G: 'Ĝ', H: 'Ĥ', I: 'Î', J: 'Ĵ', K: 'Ķ', L: 'Ļ', M: 'Ṁ',
  N: 'Ñ', O: 'Ö', P: 'Þ', Q: 'Ǫ', R: 'Ŕ', S: 'Š', T: 'Ţ', U: 'Û', V: 'Ṽ', W: 'Ŵ', X: 'Ẋ', Y: 'Ý', Z: 'Ž',
};

const KEEP = /(\{\{[^}]*\}\}|\$t\([^)]*\)|<\/?\d+\/?>)/;

export function pseudoString(text: string): string {
  if (text === '') return text;
  const parts = text.split(KEEP);
  let letters = 0;
  const out = parts
    .map((part, index) => {
      if (index % 2 === 1) return part; // a kept token
      return part.replace(/[A-Za-z]/g, (c) => {
        letters++;
        return ACCENTED[c] ?? c;
      });
    })
    .join('');
  const padding = '·'.repeat(Math.max(1, Math.ceil(letters * 0.3)));
  return `[${out} ${padding}]`;
}

export type Catalog = { [key: string]: string | Catalog };

export function pseudoCatalog(catalog: Catalog): Catalog {
  const out: Catalog = {};
  for (const [key, value] of Object.entries(catalog)) {
    out[key] = typeof value === 'string' ? pseudoString(value) : pseudoCatalog(value);
  }
  return out;
}

/** Text a test may treat as untranslated: a run of two or more plain ASCII letters. */
export function looksUntranslated(text: string): boolean {
  return /[A-Za-z]{2,}/.test(text);
}
