// `import css from "./app.css" with { type: "text" }`: Bun inlines the file's text.
declare module "*.css" {
  const text: string;
  export default text;
}
