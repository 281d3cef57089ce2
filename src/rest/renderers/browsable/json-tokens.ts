/**
 * A response body as indented JSON split into tokens the page template highlights; strings that
 * are URLs of this site become links (they open the browsable page of that URL).
 */

/** One piece of the indented JSON: its class, its text and, for a same-site URL, where it links. */
export interface JsonToken {
  kind: 'key' | 'string' | 'number' | 'literal' | 'punct';
  text: string;
  href?: string;
}

/** Tokens of `data` indented by 4, as `JSON.stringify(data, null, 4)` prints it. */
export function jsonTokens(data: unknown, siteOrigin: string): JsonToken[] {
  const site = normalisedOrigin(siteOrigin);
  const out: JsonToken[] = [];
  const punct = (text: string) => {
    const last = out[out.length - 1];
    if (last?.kind === 'punct') last.text += text;
    else out.push({ kind: 'punct', text });
  };
  const walk = (value: unknown, depth: number): void => {
    const pad = '    '.repeat(depth + 1);
    const end = '    '.repeat(depth);
    if (value === null || typeof value === 'boolean') return void out.push({ kind: 'literal', text: String(value) });
    if (typeof value === 'number' || typeof value === 'bigint') return void out.push({ kind: 'number', text: String(value) });
    if (typeof value === 'string') {
      const token: JsonToken = { kind: 'string', text: JSON.stringify(value) };
      if (site !== null && /^https?:\/\//.test(value) && normalisedOrigin(value) === site) token.href = value;
      return void out.push(token);
    }
    if (Array.isArray(value)) {
      if (!value.length) return punct('[]');
      punct('[\n');
      value.forEach((item, i) => {
        punct(pad);
        walk(item, depth + 1);
        punct(i < value.length - 1 ? ',\n' : '\n');
      });
      return punct(`${end}]`);
    }
    if (typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
      if (!entries.length) return punct('{}');
      punct('{\n');
      entries.forEach(([key, item], i) => {
        punct(pad);
        out.push({ kind: 'key', text: JSON.stringify(key) });
        punct(': ');
        walk(item, depth + 1);
        punct(i < entries.length - 1 ? ',\n' : '\n');
      });
      return punct(`${end}}`);
    }
    out.push({ kind: 'literal', text: 'null' });
  };
  if (data !== undefined) walk(data, 0);
  return out;
}

/** The origin of a URL with default ports dropped (`http://localhost:80` is `http://localhost`), or `null`. */
function normalisedOrigin(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}
