/**
 * Markdown of view descriptions, as HTML safe to put in a page: raw HTML in the text is shown as
 * text, and links or images may only point to http(s), relative or fragment URLs.
 */
import { Marked, type Token } from 'marked';

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `text` with HTML's special characters escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => escapes[c]!);
}

const SAFE_URL = /^(https?:\/\/|\/(?![/\\])|#|\.{0,2}\/|[^:/?#]*(?:[/?#]|$))/i;

const marked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    html: ({ text }) => escapeHtml(text),
  },
  walkTokens(token: Token) {
    if ((token.type === 'link' || token.type === 'image') && !SAFE_URL.test(token.href)) token.href = '#';
  },
});

/** The description `text` (Markdown) as sanitised HTML. */
export function markdownToHtml(text: string): string {
  return text ? (marked.parse(text) as string) : '';
}
