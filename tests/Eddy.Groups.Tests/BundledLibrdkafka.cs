using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Eddy.Groups.Tests;

/// <summary>
/// Makes Confluent.Kafka bind its bundled librdkafka (2.16) before any test runs. Its P/Invokes name "librdkafka",
/// which the loader may resolve to the system's copy instead, and where Debian's librdkafka-dev is installed (CI
/// installs it for kload) that is Debian's older one. (Confluent's own Library.Load(path) needs "libdl", which
/// Debian 12 ships only as libdl.so.2.) The tests also assert the version, so the wrong copy fails loudly.
/// </summary>
internal static class BundledLibrdkafka
{
    [ModuleInitializer]
    internal static void Bind()
    {
        string bundled = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "librdkafka.so");
        NativeLibrary.SetDllImportResolver(typeof(Confluent.Kafka.Library).Assembly, (name, _, _) =>
            name.StartsWith("librdkafka", StringComparison.Ordinal) ? NativeLibrary.Load(bundled) : IntPtr.Zero);
    }
}
