using Eddy.Bench.Runtime;

// Console modes for end-to-end runs; anything else goes to BenchmarkDotNet (for example --filter '*Spsc*').
return args.FirstOrDefault() switch
{
    "smp-latency" => SmpLatency.Run(args[1..]),
    "tcp-echo" => await TcpEcho.Run(args[1..]),
    "file-append" => await FileAppend.Run(args[1..]),
    "storage" => Eddy.Bench.Storage.StorageRun.Run(args[1..]),
    "storage-read" => Eddy.Bench.Storage.ReadComparison.Run(args[1..]),
    "embedded-start" => await Eddy.Bench.Embedded.EmbeddedStart.Run(args[1..]),
    _ => RunBenchmarkDotNet(args),
};

static int RunBenchmarkDotNet(string[] args)
{
    BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(SpscHandoffBenchmarks).Assembly).Run(args);
    return 0;
}
