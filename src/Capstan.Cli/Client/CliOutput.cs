namespace Capstan.Cli.Client;

using System.Globalization;
using System.Text;
using System.Text.Json;
using Capstan.Api.Contracts;

/// <summary>Prints results as aligned text tables or as JSON (<c>--json</c>).</summary>
internal sealed class CliOutput(TextWriter output, bool json)
{
    public TextWriter Writer => output;

    public bool Json => json;

    /// <summary>Prints <paramref name="value"/> as JSON, or as a table of <paramref name="rows"/> under <paramref name="headers"/>.</summary>
    public void Print<T>(T value, string[] headers, IEnumerable<string[]> rows)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(value, CapstanJson.Indented));
            return;
        }

        WriteTable(headers, [.. rows]);
    }

    /// <summary>Prints a one-line message, or the value as JSON.</summary>
    public void Message<T>(T value, string text)
    {
        output.WriteLine(json ? JsonSerializer.Serialize(value, CapstanJson.Indented) : text);
    }

    private void WriteTable(string[] headers, List<string[]> rows)
    {
        var widths = new int[headers.Length];
        for (int column = 0; column < headers.Length; column++)
        {
            widths[column] = headers[column].Length;
            foreach (var row in rows)
            {
                widths[column] = Math.Max(widths[column], row[column].Length);
            }
        }

        output.WriteLine(Line(headers, widths));
        output.WriteLine(Line([.. widths.Select(width => new string('-', width))], widths));
        foreach (var row in rows)
        {
            output.WriteLine(Line(row, widths));
        }

        if (rows.Count == 0)
        {
            output.WriteLine("(none)");
        }
    }

    private static string Line(string[] cells, int[] widths)
    {
        var text = new StringBuilder();
        for (int column = 0; column < cells.Length; column++)
        {
            if (column > 0)
            {
                text.Append("  ");
            }

            text.Append(column == cells.Length - 1 ? cells[column] : cells[column].PadRight(widths[column]));
        }

        return text.ToString();
    }

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
