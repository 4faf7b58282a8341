/// <reference types="node" />
import { File as NodeFile } from 'node:buffer';
import { cleanup } from '@testing-library/react';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { i18n } from '../i18n';
import { network } from './msw';

// MSW turns each XMLHttpRequest body into a fetch `Request`. Vitest 4.1 copies jsdom's FormData
// into Node's for that without the files' names and, with jsdom 29, without their bytes (it
// reads a field jsdom renamed), so an uploaded photo would reach the handlers empty. Copy the
// form faithfully first.
const NodeFormData = (await new Response('', { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }).formData())
  .constructor as typeof FormData;
const blobImpl = Object.getOwnPropertySymbols(Object.getOwnPropertyDescriptors(new Blob()))[0];
const bytesOf = (b: Blob): Uint8Array => {
  const impl = (b as unknown as Record<symbol, { _bytes?: Uint8Array; _buffer?: Uint8Array }>)[blobImpl];
  return impl._bytes ?? impl._buffer ?? new Uint8Array();
};
function nodeFormData(form: FormData): FormData {
  const out = new NodeFormData();
  form.forEach((value, key) => {
    if (typeof value === 'string') out.append(key, value);
    else out.append(key, new NodeFile([bytesOf(value)], value.name, { type: value.type }) as unknown as File);
  });
  return out;
}
const JsdomCompatRequest = globalThis.Request;
globalThis.Request = class Request extends JsdomCompatRequest {
  constructor(input: RequestInfo | URL, init?: RequestInit) {
    super(input, init?.body instanceof FormData ? { ...init, body: nodeFormData(init.body) } : init);
  }
};

// English, as the component tests expect (jsdom's navigator says en-US); a test that switches
// language gets English back afterwards.
void i18n.changeLanguage('en');

// Every request and socket goes through MSW; one that no handler answers fails the test.
beforeAll(() => network.listen({ onUnhandledRequest: 'error' }));
afterEach(async () => {
  cleanup();
  if (i18n.language !== 'en') await i18n.changeLanguage('en');
  localStorage.clear();
  network.resetHandlers();
});
afterAll(() => network.close());

// jsdom lacks element scrolling.
if (!Element.prototype.scrollTo) {
  Element.prototype.scrollTo = function scrollTo(this: Element, arg?: ScrollToOptions | number) {
    if (typeof arg === 'object' && arg?.top !== undefined) (this as HTMLElement).scrollTop = arg.top;
  };
}
