namespace Capstan.Api.Tests;

using System.Globalization;
using System.Text.RegularExpressions;

/// <summary>A parsed Prometheus text exposition: samples by name and labels.</summary>
internal sealed partial class PrometheusText
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];

    public PrometheusText(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a sample line: {line}");
            var labels = new Dictionary<string, string>();
            foreach (Match label in LabelPair().Matches(match.Groups["labels"].Value))
            {
                labels[label.Groups[1].Value] = label.Groups[2].Value;
            }

            _samples.Add((match.Groups["name"].Value, labels, double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }
    }

    public string Text { get; }

    /// <summary>Samples of a series whose labels include every given pair.</summary>
    public List<double> Values(string name, params (string Label, string Value)[] labels)
    {
        var result = new List<double>();
        foreach (var sample in _samples)
        {
            if (sample.Name == name && labels.All(l => sample.Labels.TryGetValue(l.Label, out var v) && v == l.Value))
            {
                result.Add(sample.Value);
            }
        }

        return result;
    }

    /// <summary>The single sample of a series.</summary>
    public double Value(string name, params (string Label, string Value)[] labels)
    {
        var values = Values(name, labels);
        Assert.True(values.Count == 1, $"{name}{{{string.Join(",", labels.Select(l => $"{l.Label}={l.Value}"))}}}: {values.Count} samples\n{Text}");
        return values[0];
    }

    /// <summary>Label values of a label over a series.</summary>
    public HashSet<string> LabelValues(string name, string label) =>
        [.. _samples.Where(s => s.Name == name && s.Labels.ContainsKey(label)).Select(s => s.Labels[label])];

    public bool Has(string name, params (string Label, string Value)[] labels) => Values(name, labels).Count > 0;

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"")]
    private static partial Regex LabelPair();
}
