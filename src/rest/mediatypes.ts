/**
 * Media types and Accept headers, parsed as DRF's `utils/mediatypes.py` does: what renderers and
 * parsers declare, what content negotiation compares with the request's headers.
 */

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

/** A parsed media type or Accept entry (`type/subtype; key=value`), as DRF's `_MediaType`. */
export class MediaType {
  readonly type: string;
  readonly subtype: string;
  /** Parameters other than `q`, keys lower-cased. */
  readonly params: Readonly<Record<string, string>>;
  /** The `q` parameter, 0 to 1 (1 when absent or malformed). */
  readonly quality: number;
  /** DRF's precedence: 0 for `*\/*`, 1 for `type/*`, 2 for `type/subtype`, 3 with parameters. */
  readonly precedence: number;

  constructor(text: string) {
    const [essence = '', ...rest] = text.split(';');
    const trimmed = essence.trim().toLowerCase();
    const slash = trimmed.indexOf('/');
    this.type = slash === -1 ? trimmed : trimmed.slice(0, slash).trim();
    this.subtype = slash === -1 ? (trimmed === '*' ? '*' : '') : trimmed.slice(slash + 1).trim();
    let params: Record<string, string> | null = null;
    let quality = 1;
    for (const part of rest) {
      const eq = part.indexOf('=');
      if (eq === -1) continue;
      const key = part.slice(0, eq).trim().toLowerCase();
      const value = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      if (!key) continue;
      if (key === 'q') {
        const q = Number(value);
        if (value !== '' && Number.isFinite(q)) quality = Math.min(Math.max(q, 0), 1);
      } else {
        (params ??= {})[key] = value;
      }
    }
    this.params = params ? Object.freeze(params) : NO_PARAMS;
    this.quality = quality;
    this.precedence = this.type === '*' ? 0 : this.subtype === '*' ? 1 : params ? 3 : 2;
  }

  /** `type/subtype`, without parameters. */
  get essence(): string {
    return `${this.type}/${this.subtype}`;
  }

  /** True when this media type satisfies `other`: wildcards match either way, this one's parameters must be in `other`. */
  matches(other: MediaType): boolean {
    for (const key in this.params) if (other.params[key] !== this.params[key]) return false;
    if (this.subtype !== '*' && other.subtype !== '*' && this.subtype !== other.subtype) return false;
    if (this.type !== '*' && other.type !== '*' && this.type !== other.type) return false;
    return this.subtype !== '' && other.subtype !== '';
  }

  /** The media type with its parameters and without `q`, e.g. `application/json; indent=4`. */
  toString(): string {
    let text = this.essence;
    for (const key in this.params) text += `; ${key}=${this.params[key]}`;
    return text;
  }
}

/** The entries of an Accept header, in header order; an empty or missing header accepts anything. */
export function parseAccept(header: string | undefined): MediaType[] {
  const entries = (header ?? '')
    .split(',')
    .filter((part) => part.trim() !== '')
    .map((part) => new MediaType(part));
  return entries.length ? entries : [new MediaType('*/*')];
}
