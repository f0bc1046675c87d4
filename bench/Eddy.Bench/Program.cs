// `-- storage [DIR] [MiB]` runs the storage figures (see README); anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "storage")
{
    return Eddy.Bench.Storage.StorageRun.Run(args[1..]);
}
BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
