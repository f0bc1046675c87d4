return Eddy.Host.Cli.Run(args);
