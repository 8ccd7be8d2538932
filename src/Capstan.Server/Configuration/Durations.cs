namespace Capstan.Server.Configuration;

using System.Globalization;

/// <summary>
/// Durations in settings: a number with a unit — <c>500ms</c>, <c>10s</c>, <c>1.5s</c>, <c>2m</c>,
/// <c>1h</c> — or a .NET time span such as <c>00:00:10</c>. A bare number is refused (is it
/// seconds or milliseconds?).
/// </summary>
public static class Durations
{
    /// <summary>Parses a duration; false (with no exception) when the text is not one.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var trimmed = text.Trim();
        if (trimmed.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
        }

        var (number, unit) = Split(trimmed);
        if (unit.Length == 0 || !double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            return false;
        }

        double milliseconds = unit switch
        {
            "ms" => amount,
            "s" => amount * 1_000,
            "m" or "min" => amount * 60_000,
            "h" => amount * 3_600_000,
            _ => double.NaN,
        };
        if (double.IsNaN(milliseconds) || milliseconds > TimeSpan.MaxValue.TotalMilliseconds)
        {
            return false;
        }

        value = TimeSpan.FromMilliseconds(milliseconds);
        return true;
    }

    /// <summary>Formats a duration the way <see cref="TryParse"/> reads it (e.g. <c>10s</c>, <c>50ms</c>).</summary>
    public static string Format(TimeSpan value)
    {
        if (value.Ticks % TimeSpan.TicksPerSecond == 0)
        {
            return $"{(long)value.TotalSeconds}s";
        }

        return value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
    }

    private static (string Number, string Unit) Split(string text)
    {
        int end = 0;
        while (end < text.Length && (char.IsAsciiDigit(text[end]) || text[end] == '.'))
        {
            end++;
        }

        return (text[..end], text[end..].Trim().ToLowerInvariant());
    }
}
