Console.WriteLine("seeds=0 violations=0 liveness_failures=0 ticks=0");
