/**
 * The one email address syntax, checked wherever an address comes in (the CLI,
 * a CSV import, the portal): one @, a local part without spaces, controls or
 * the characters that split or quote a mail header (, ; : < > ( ) [ ] \ "),
 * and a dotted host name of letters, digits and hyphens.
 */
const EMAIL =
  /^[^\s\u0000-\u001f\u007f@<>()[\]\\,;:"]{1,64}@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function isEmailAddress(e: string): boolean {
  return e.length <= 254 && EMAIL.test(e);
}
