namespace Capstan.Server;

using System.Globalization;
using Capstan.Core.Model;

/// <summary>Table lists as people type them: <c>1-1000</c>, <c>1,2,5-9</c>.</summary>
public static class TableLists
{
    /// <summary>The most tables one list may name.</summary>
    public const int MaxTables = 1_000_000;

    /// <summary>
    /// Parses comma-separated table ids and inclusive ranges (<c>a-b</c>) of positive ids into a
    /// sorted list without duplicates. Throws <see cref="FormatException"/> saying what is wrong.
    /// </summary>
    public static IReadOnlyList<TableId> Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new FormatException("no tables given; e.g. 1-1000 or 1,2,5-9");
        }

        var ids = new SortedSet<long>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var (first, last) = ParseRange(part);
            if (last - first + 1 > MaxTables - ids.Count)
            {
                throw new FormatException($"more than {MaxTables:N0} tables");
            }

            for (long id = first; id <= last; id++)
            {
                ids.Add(id);
            }
        }

        var result = new TableId[ids.Count];
        int index = 0;
        foreach (var id in ids)
        {
            result[index++] = new TableId(id);
        }

        return result;
    }

    /// <summary>Formats ids compactly, merging runs into ranges (<c>1-1000,2000</c>).</summary>
    public static string Format(IReadOnlyList<TableId> tables)
    {
        var sorted = new List<long>(tables.Count);
        foreach (var table in tables)
        {
            sorted.Add(table.Value);
        }

        sorted.Sort();
        var parts = new List<string>();
        for (int i = 0; i < sorted.Count;)
        {
            int j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] <= sorted[j] + 1)
            {
                j++;
            }

            parts.Add(i == j || sorted[i] == sorted[j]
                ? sorted[i].ToString(CultureInfo.InvariantCulture)
                : $"{sorted[i].ToString(CultureInfo.InvariantCulture)}-{sorted[j].ToString(CultureInfo.InvariantCulture)}");
            i = j + 1;
        }

        return string.Join(',', parts);
    }

    private static (long First, long Last) ParseRange(string part)
    {
        if (part.Length == 0)
        {
            throw new FormatException("an empty entry between commas; table ids are positive integers (e.g. 1-1000 or 1,2,5-9)");
        }

        int dash = part.IndexOf('-', 1);
        if (dash < 0)
        {
            long id = ParseId(part, part);
            return (id, id);
        }

        long first = ParseId(part[..dash].Trim(), part);
        long last = ParseId(part[(dash + 1)..].Trim(), part);
        if (last < first)
        {
            throw new FormatException($"'{part}': the range ends before it starts");
        }

        return (first, last);
    }

    private static long ParseId(string text, string part)
    {
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long id) || id <= 0)
        {
            throw new FormatException($"'{part}': table ids are positive integers (e.g. 1-1000 or 1,2,5-9)");
        }

        return id;
    }
}
