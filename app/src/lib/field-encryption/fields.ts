import type { FieldRegistry } from "./envelope";

/**
 * The encrypted fields of the app and the data key purpose that protects each. A purpose is a
 * class of data with its own keys (and so its own rotation and blast radius): bank details,
 * contact details, identity documents. Start-up fails unless every purpose named here has a data
 * key, so adding a field of a new purpose is a deploy-time error until its key is configured.
 *
 * A field with `normalize` gets a blind index for exact lookups (find the user by IBAN, by phone
 * number); the others can only be read by record.
 */
const compactUpper = (v: string) => v.replace(/\s+/g, "").toUpperCase();
const phoneDigits = (v: string) => v.replace(/[^\d+]/g, "");

export const ENCRYPTED_FIELDS: FieldRegistry = {
  "users.iban": { purpose: "banking", normalize: compactUpper },
  "beneficiaries.iban": { purpose: "banking", normalize: compactUpper },
  "users.phone": { purpose: "contact", normalize: phoneDigits },
  "users.identityDocument": { purpose: "identity" },
};

/** The purposes a deployment needs one data key for, at least. */
export const PURPOSES = [...new Set(Object.values(ENCRYPTED_FIELDS).map((f) => f.purpose))].sort();
