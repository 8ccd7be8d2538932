namespace Capstan.Benchmarks;

using System.Globalization;

/// <summary>
/// The table counts the benchmarks run with: TiCDC's doubling sizes by default, or the list given
/// with <c>--sizes 1024,8192</c> (Program passes it on through an environment variable, which
/// BenchmarkDotNet's host reads when it enumerates the [ParamsSource] values).
/// </summary>
public static class BenchmarkSizes
{
    /// <summary>Environment variable holding a comma-separated size list that replaces the defaults.</summary>
    public const string EnvironmentVariable = "CAPSTAN_BENCH_SIZES";

    /// <summary>1, 2, 4, … up to <paramref name="max"/> (inclusive), unless overridden.</summary>
    public static IEnumerable<int> Doubling(int max)
    {
        if (Override() is { } sizes)
        {
            return sizes;
        }

        var result = new List<int>();
        for (int size = 1; size <= max; size *= 2)
        {
            result.Add(size);
        }

        return result;
    }

    /// <summary>The given sizes, unless overridden.</summary>
    public static IEnumerable<int> Fixed(params int[] sizes) => Override() ?? sizes;

    private static int[]? Override()
    {
        string? text = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => int.Parse(part, NumberStyles.Integer, CultureInfo.InvariantCulture))
            .ToArray();
    }
}
