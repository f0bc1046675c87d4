using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Eddy.Tests;

/// <summary>
/// Makes Confluent.Kafka load the librdkafka it ships with (2.16, in runtimes/linux-x64/native beside the tests),
/// never a system copy. Without this, the runtime's default probing tries a plain dlopen("librdkafka.so") first, and
/// that finds Debian's 2.0 wherever librdkafka-dev is installed (.ci/run installs it to build kload). Linked into
/// every test project that uses Confluent.Kafka; the tests still assert the version that answers.
/// </summary>
internal static class BundledLibrdkafka
{
    private static readonly string Path = System.IO.Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "librdkafka.so");

    // A module initializer because the resolver must be in place before the first Confluent.Kafka call, whichever
    // test runs first; test assemblies are loaded by the runner alone, so CA2255's concern (libraries) does not apply.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Install() =>
        NativeLibrary.SetDllImportResolver(typeof(Confluent.Kafka.Library).Assembly, Resolve);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == "librdkafka" && File.Exists(Path) ? NativeLibrary.Load(Path) : IntPtr.Zero;
}
