using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Eddy.Broker.Tests;

/// <summary>
/// Makes Confluent.Kafka use the librdkafka 2.16 that its NuGet package ships, even where Debian's librdkafka-dev is
/// installed. Confluent.Kafka binds "librdkafka" first; the package's main build (runtimes/linux-x64/native/
/// librdkafka.so) needs libsasl2.so.3, which Debian 12 does not have (it ships libsasl2.so.2), so the runtime's search
/// falls through to the system's /lib/.../librdkafka.so (2.0.2) when that exists, and the tests would quietly test an
/// older client. This resolver answers "librdkafka" with the bundled main build when it loads, else with the
/// package's RHEL 8 build (centos8-librdkafka.so, the same 2.16 without the SASL library), which the client itself
/// falls back to when no system copy is installed. <see cref="ConfluentClientTests.AssertBundledLibrdkafka"/> checks
/// the version that was loaded.
/// </summary>
internal static class BundledLibrdkafka
{
    private static readonly string[] Builds = ["librdkafka.so", "centos8-librdkafka.so"];

#pragma warning disable CA2255 // The resolver must be in place before any test touches Confluent.Kafka; a test assembly is the place for that.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void ResolveToTheBundledCopy() => NativeLibrary.SetDllImportResolver(typeof(Confluent.Kafka.Library).Assembly, Resolve);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != "librdkafka")
        {
            return IntPtr.Zero; // the default search
        }
        string directory = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
        foreach (string build in Builds)
        {
            if (NativeLibrary.TryLoad(Path.Combine(directory, build), out var handle))
            {
                return handle;
            }
        }
        return IntPtr.Zero;
    }
}
