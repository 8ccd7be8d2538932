namespace Capstan.Cli.Simulate;

using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Capstan.Simulation;

/// <summary>
/// <c>capstan simulate</c>: the deterministic cluster simulator. <c>--seed N</c> replays one run
/// (and prints the trace around a violation); <c>--seeds N</c> and/or <c>--duration</c> run a swarm
/// of random configurations and print seeds/s and simulated ticks/s. Exit code 1 on any violation.
/// </summary>
public static class SimulateCommand
{
    private const int MaxFailuresShown = 10;

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var seed = new Option<ulong?>("--seed") { Description = "replay this one seed (prints the trace around a violation)" };
        var seeds = new Option<long?>("--seeds") { Description = "swarm: run this many seeds" };
        var duration = new Option<TimeSpan?>("--duration")
        {
            Description = "swarm: stop after this long (90, 90s, 5m, 1h or 00:05:00)",
            CustomParser = ParseDuration,
        };
        var startSeed = new Option<ulong?>("--start-seed") { Description = "swarm: first seed (default: from the clock, printed)" };
        var profile = new Option<SimulationProfile>("--profile")
        {
            Description = "configuration ranges: swarm (1-16 captures, 1-5000 tables) or small (the test suite's)",
            DefaultValueFactory = _ => SimulationProfile.Swarm,
        };
        var captures = new Option<int?>("--captures") { Description = "override the drawn number of captures (1..64)" };
        var tables = new Option<int?>("--tables") { Description = "override the drawn number of tables (0..100000)" };
        var faultTicks = new Option<int?>("--fault-ticks") { Description = "override the drawn length of the fault phase, in 50 ms ticks" };
        var unordered = new Option<bool>("--unordered-links") { Description = "let messages overtake each other within a link (the real transport is FIFO per link)" };
        var parallel = new Option<int>("--parallel")
        {
            Description = "swarm: worker threads",
            DefaultValueFactory = _ => Math.Max(1, Environment.ProcessorCount),
        };
        var traceLines = new Option<int>("--trace")
        {
            Description = "trace lines printed with a violation",
            DefaultValueFactory = _ => 200,
        };
        var verbose = new Option<bool>("--verbose") { Description = "swarm: print every seed's result" };

        var command = new Command("simulate", "deterministic cluster simulator: the real coordinator and agents under injected faults, checked every tick")
        {
            seed, seeds, duration, startSeed, profile, captures, tables, faultTicks, unordered, parallel, traceLines, verbose,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var spec = new RunSpec
            {
                Profile = parse.GetValue(profile),
                Captures = parse.GetValue(captures),
                Tables = parse.GetValue(tables),
                FaultTicks = parse.GetValue(faultTicks),
                UnorderedLinks = parse.GetValue(unordered),
                TraceLines = Math.Max(1, parse.GetValue(traceLines)),
            };
            if (Validate(spec) is { } problem)
            {
                Console.Error.WriteLine(problem);
                return Task.FromResult(2);
            }

            if (parse.GetValue(seed) is ulong one)
            {
                return Task.FromResult(Replay(spec, one));
            }

            var count = parse.GetValue(seeds);
            var limit = parse.GetValue(duration);
            if (count is null && limit is null)
            {
                Console.Error.WriteLine("give --seed N to replay one run, or --seeds N and/or --duration to run a swarm");
                return Task.FromResult(2);
            }

            ulong first = parse.GetValue(startSeed) ?? (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
            return Task.FromResult(RunSwarm(spec with { TraceCapacity = 4_000 }, first, count, limit, parse.GetValue(parallel), parse.GetValue(verbose), cancellationToken));
        });
        return command;
    }

    private static string? Validate(RunSpec spec)
    {
        if (spec.Captures is < 1 or > 64)
        {
            return "--captures must be in 1..64";
        }

        if (spec.Tables is < 0 or > 100_000)
        {
            return "--tables must be in 0..100000";
        }

        return spec.FaultTicks is < 0 ? "--fault-ticks must be >= 0" : null;
    }

    private static int Replay(RunSpec spec, ulong seed)
    {
        var random = new Capstan.Core.Model.SeededRandom(seed);
        Console.WriteLine($"seed {seed}: {spec.Options(random).Describe()}");
        var outcome = spec.Run(seed);
        if (outcome.Violation is { } violation)
        {
            Console.WriteLine(violation.Report());
            return 1;
        }

        Console.WriteLine(outcome.Result!.Describe());
        return 0;
    }

    private static int RunSwarm(RunSpec spec, ulong first, long? count, TimeSpan? limit, int parallelism, bool verbose, CancellationToken cancellationToken)
    {
        Console.WriteLine($"swarm: profile {spec.Profile.ToString().ToLowerInvariant()}, seeds from {first}"
            + $"{(count is long n ? $", {n} seeds" : string.Empty)}{(limit is { } d ? $", for {d}" : string.Empty)}, {parallelism} threads");
        var gate = new object();
        var lastProgress = DateTime.UtcNow;
        var totals = Swarm.Run(spec, first, count, limit, parallelism, MaxFailuresShown, (outcome, sofar) =>
        {
            lock (gate)
            {
                if (outcome.Violation is { } violation)
                {
                    Console.WriteLine($"FAIL seed {outcome.Seed}: {violation.Kind} at tick {violation.Tick}: {violation.Detail}");
                    Console.WriteLine($"  replay: {violation.ReplayCommand}");
                }
                else if (verbose)
                {
                    Console.WriteLine(outcome.Result!.Describe());
                }

                if (DateTime.UtcNow - lastProgress > TimeSpan.FromSeconds(10))
                {
                    lastProgress = DateTime.UtcNow;
                    Console.WriteLine($"  … {sofar.Describe()}");
                }
            }
        }, cancellationToken);

        Console.WriteLine(totals.Describe());
        Console.WriteLine($"fault mix: {totals.Stats.Describe()}");
        foreach (var failure in totals.Failures)
        {
            Console.WriteLine($"failing seed {failure.Seed}: {failure.Violation!.ReplayCommand}");
        }

        return totals.Failures.Count == 0 ? 0 : 1;
    }

    /// <summary>"90" and "90s" are seconds; "5m", "1h"; or a TimeSpan such as 00:05:00.</summary>
    private static TimeSpan? ParseDuration(ArgumentResult result)
    {
        string text = result.Tokens.Count == 0 ? string.Empty : result.Tokens[0].Value.Trim();
        double? seconds = text switch
        {
            _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double plain) => plain,
            _ when text.EndsWith('s') && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double s) => s,
            _ when text.EndsWith('m') && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double m) => m * 60,
            _ when text.EndsWith('h') && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double h) => h * 3600,
            _ when TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) => span.TotalSeconds,
            _ => null,
        };
        if (seconds is not double value || value <= 0)
        {
            result.AddError($"--duration: '{text}' is not a positive duration (e.g. 90, 90s, 5m, 00:05:00)");
            return null;
        }

        return TimeSpan.FromSeconds(value);
    }
}
