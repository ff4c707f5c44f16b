// i18next with the English catalog (locales/en.json) and the pseudo-locale generated from it.
// `?lng=pseudo` (or `?lng=en`) picks one and remembers it in localStorage.
import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from '../locales/en.json';
import { pseudoCatalog, type Catalog } from './pseudo.ts';

export const LANGUAGES = ['en', 'pseudo'] as const;
export type Language = (typeof LANGUAGES)[number];
const STORAGE_KEY = 'intake.lng';

export function pickLanguage(): Language {
  const fromUrl = new URLSearchParams(window.location.search).get('lng');
  if (fromUrl && (LANGUAGES as readonly string[]).includes(fromUrl)) {
    try {
      localStorage.setItem(STORAGE_KEY, fromUrl);
    } catch {
      // storage may be off; the URL still decides this page
    }
    return fromUrl as Language;
  }
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored && (LANGUAGES as readonly string[]).includes(stored)) return stored as Language;
  } catch {
    // ignore
  }
  return 'en';
}

/** The locale Intl formats dates and numbers in (the pseudo-locale formats like English). */
export function intlLocale(): string {
  return i18n.language === 'pseudo' ? 'en-US' : navigator.language || 'en-US';
}

export function initI18n(): typeof i18n {
  const lng = pickLanguage();
  void i18n.use(initReactI18next).init({
    resources: { en: { translation: en }, pseudo: { translation: pseudoCatalog(en as Catalog) } },
    lng,
    fallbackLng: false,
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  document.documentElement.lang = lng === 'pseudo' ? 'en-XA' : 'en';
  return i18n;
}
