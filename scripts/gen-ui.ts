// Writes src/ui/client-bundle.ts: the Explorer's client script, bundled (run after changing src/ui/client/).
import { bundleClientScript, CLIENT_BUNDLE_FILE, clientBundleModule } from "./ui-bundle.ts";

await Bun.write(CLIENT_BUNDLE_FILE, clientBundleModule(bundleClientScript()));
console.log(`wrote ${CLIENT_BUNDLE_FILE}`);
