Console.Error.WriteLine("usage: Eddy.Codegen <definitions-dir> <output-dir>"); return 2;
