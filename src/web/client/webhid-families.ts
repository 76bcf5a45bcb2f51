/**
 * The token families this build programs over WebHID from the page, and why
 * none when none does: both from the page's family table
 * (drivers/page-registry.ts), each family's part in its own folder. The
 * station offers its WebHID control only when the list is not empty, and
 * otherwise says why in one line.
 */
import { noWebHidFamily, webHidFamilies } from '../../../drivers/page-registry.js';

export const WEBHID_FAMILIES: readonly string[] = webHidFamilies();

export const NO_WEBHID_FAMILY = noWebHidFamily();
