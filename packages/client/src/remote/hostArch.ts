/** Flatpak's name for this machine's architecture (x86_64, aarch64, …). */
export function hostArch(): string {
  switch (process.arch) {
    case 'x64':
      return 'x86_64';
    case 'arm64':
      return 'aarch64';
    case 'ia32':
      return 'i386';
    case 'arm':
      return 'arm';
    default:
      return process.arch;
  }
}
