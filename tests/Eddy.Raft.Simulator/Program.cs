using Eddy.Raft.Simulator;

return SimulatorCli.Run(args, Console.Out);
