/*
 * Names people give things (datasets, keys) and labels (class folder names) are shown back in
 * listings, predictions and terminals, so they are held to one rule: NFC-normalised, at most
 * 200 characters, no control characters, line separators or bidirectional-text controls (which
 * can make a label or file name read as a different one).
 */

export const MAX_NAME_LENGTH = 200;

// Cc controls, U+2028/U+2029 line and paragraph separators, and the bidi marks, embeddings,
// overrides and isolates (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069).
const FORBIDDEN =
  // eslint-disable-next-line no-control-regex -- control characters are what we refuse
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/** True if the text holds a character that no name, label or file name may hold. */
export function hasForbiddenCharacters(text: string): boolean {
  return FORBIDDEN.test(text);
}

/** The text with each forbidden character spelled `\u{…}`, and cut short: safe to show. */
export function visible(text: string, most = 120): string {
  const shown = [...text].length > most ? `${[...text].slice(0, most).join('')}…` : text;
  return shown.replace(
    new RegExp(FORBIDDEN.source, 'gu'),
    (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`,
  );
}

export type NameCheck = { ok: true; name: string } | { ok: false; reason: string };

/** The NFC form of `text`, or why it cannot be a name. Length counts code points. */
export function checkName(text: string, maxLength = MAX_NAME_LENGTH): NameCheck {
  const name = text.normalize('NFC');
  if (hasForbiddenCharacters(name)) {
    return {
      ok: false,
      reason: 'contains control characters, line separators or bidirectional-text controls',
    };
  }
  const length = [...name].length;
  if (length > maxLength) {
    return { ok: false, reason: `is ${length} characters long; the limit is ${maxLength}` };
  }
  return { ok: true, name };
}

/** Tenant names: what `npm run tenants` and `npm run keys:create` accept. */
export const TENANT_NAME = /^[\w.-]{1,64}$/;
