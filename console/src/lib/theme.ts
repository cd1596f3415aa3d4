// Light, dark or the system's choice, remembered in this browser.
export type Theme = "light" | "dark" | "system";

export function currentTheme(): Theme {
  const t = localStorage.getItem("weft.theme");
  return t === "light" || t === "dark" ? t : "system";
}

export function applyTheme(theme: Theme = currentTheme()) {
  if (theme === "system") {
    localStorage.removeItem("weft.theme");
    delete document.documentElement.dataset.theme;
  } else {
    localStorage.setItem("weft.theme", theme);
    document.documentElement.dataset.theme = theme;
  }
}
