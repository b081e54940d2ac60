// IOC rules written from Kaspersky's published APT reports: a rule pack, not Kaspersky code.
rule apt_report_sample_kaspersky_2024 {
    meta:
        source = "Kaspersky GReAT report"
        reference = "appinfo.kli Kave8.dll u1313g.xml"
    strings:
        $a = "KasperskyLab\\sdk\\AVP8\\environment"
    condition:
        $a
}
