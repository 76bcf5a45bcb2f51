/**
 * Escaping of values put into LDAP filters and DNs. A login typed into the
 * portal ends up in a search filter: unescaped, `*` would match everyone and
 * `admin)(|(uid=*` would rewrite the filter.
 */

/** RFC 4515 section 3: `*` `(` `)` `\` and NUL as \2a \28 \29 \5c \00; other bytes stay (UTF-8 is allowed in a value). */
export function escapeFilterValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (ch === '*' || ch === '(' || ch === ')' || ch === '\\' || c === 0) out += '\\' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out;
}

/** RFC 4514 section 2.4: an attribute value inside a DN, with `,+"\<>;=` and NUL escaped, and a leading `#`/space or trailing space. */
export function escapeDnValue(value: string): string {
  let out = '';
  const chars = [...value];
  chars.forEach((ch, i) => {
    if (ch === '\0') out += '\\00';
    else if (',+"\\<>;='.includes(ch)) out += '\\' + ch;
    else if (i === 0 && (ch === '#' || ch === ' ')) out += '\\' + ch;
    else if (i === chars.length - 1 && ch === ' ') out += '\\ ';
    else out += ch;
  });
  return out;
}

/** A DN in one comparable form: lower case, no spaces around `,` and `=` (enough for the DNs a server hands back). */
export function normaliseDn(dn: string): string {
  return dn
    .trim()
    .replace(/\s*([,=])\s*/g, '$1')
    .toLowerCase();
}
