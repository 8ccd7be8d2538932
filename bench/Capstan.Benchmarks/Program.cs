namespace Capstan.Benchmarks;

using BenchmarkDotNet.Running;
using Capstan.Benchmarks.Memory;

/// <summary>
/// Entry point. <c>--filter '*'</c> and every other BenchmarkDotNet option work as usual; in
/// addition <c>--sizes 1024,131072</c> replaces the table counts of every benchmark, and the
/// first argument <c>memory</c> prints the coordinator's retained memory per span instead of
/// running benchmarks (<c>memory [spans] [captures]</c>, default 2^20 spans, 8 captures), and
/// <c>probe</c> runs one benchmark method in-process measuring thread CPU time (see <see cref="Probe"/>).
/// </summary>
public static class Program
{
    /// <summary>Runs the benchmarks or the memory report.</summary>
    public static int Main(string[] args)
    {
        var rest = new List<string>();
        for (int index = 0; index < args.Length; index++)
        {
            if (args[index] == "--sizes" && index + 1 < args.Length)
            {
                Environment.SetEnvironmentVariable(BenchmarkSizes.EnvironmentVariable, args[++index]);
            }
            else
            {
                rest.Add(args[index]);
            }
        }

        if (rest.Count > 0 && rest[0] == "probe")
        {
            return Probe.Run(rest.Skip(1).ToArray(), Console.Out);
        }

        if (rest.Count > 0 && rest[0] == "memory")
        {
            return CoordinatorMemory.Report(rest.Skip(1).ToArray(), Console.Out);
        }

        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest.ToArray(), BenchConfig.Create());
        return summaries.Any(summary => summary.HasCriticalValidationErrors) ? 1 : 0;
    }
}
