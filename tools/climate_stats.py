#!/usr/bin/python3
"""Monthly climate statistics of the TMY3 weather files behind the 16 weather conditions.

Writes the table the hvac plugin's synthetic climates are calibrated to, in three forms:
  plugins/hvac/climate_table.csv   monthly statistics, one row per condition and month
  plugins/hvac/climate_sites.csv   per condition: site, time zone, day-to-day variability
  plugins/hvac/climate_table.c     the same numbers as C source, compiled into the plugin

Usage: tools/climate_stats.py WEATHER_DIR [OUT_DIR]   (OUT_DIR defaults to plugins/hvac)

Definitions (hour k of the file = row k, day d = rows 24d..24d+23, month from the rows):
  tmax, tmin    monthly mean of the daily maximum / minimum dry-bulb temperature (C, field 7)
  ghi_total     monthly mean of the daily sum of global horizontal irradiance (Wh/m2, field 14)
  ghi_peak      monthly mean of the daily maximum hourly GHI (Wh/m2)
  temp_sd       standard deviation of the daily mean temperature about its month's mean (C)
  temp_ar1      lag-1 autocorrelation of that daily anomaly
  ghi_cv        standard deviation of the daily GHI sum about its month's mean, divided by it
  max_ghi       the largest hourly GHI of the file
"""
import os
import sys

CONDITIONS = [
    ("Very_Hot_Humid", "Honolulu", "USA_HI_Honolulu.Intl.AP.911820_TMY3.epw"),
    ("Hot_Humid", "Tampa", "USA_FL_Tampa-MacDill.AFB.747880_TMY3.epw"),
    ("Hot_Dry", "Tucson", "USA_AZ_Tucson-Davis-Monthan.AFB.722745_TMY3.epw"),
    ("Warm_Humid", "Atlanta", "USA_GA_Atlanta-Hartsfield.Jackson.Intl.AP.722190_TMY3.epw"),
    ("Warm_Dry", "ElPaso", "USA_TX_El.Paso.Intl.AP.722700_TMY3.epw"),
    ("Warm_Marine", "SanDiego", "USA_CA_San.Deigo-Brown.Field.Muni.AP.722904_TMY3.epw"),
    ("Mixed_Humid", "NewYork", "USA_NY_New.York-John.F.Kennedy.Intl.AP.744860_TMY3.epw"),
    ("Mixed_Dry", "Albuquerque", "USA_NM_Albuquerque.Intl.Sunport.723650_TMY3.epw"),
    ("Mixed_Marine", "Seattle", "USA_WA_Seattle-Tacoma.Intl.AP.727930_TMY3.epw"),
    ("Cool_Humid", "Buffalo", "USA_NY_Buffalo.Niagara.Intl.AP.725280_TMY3.epw"),
    ("Cool_Dry", "Denver", "USA_CO_Denver-Aurora-Buckley.AFB.724695_TMY3.epw"),
    ("Cool_Marine", "PortAngeles", "USA_WA_Port.Angeles-William.R.Fairchild.Intl.AP.727885_TMY3.epw"),
    ("Cold_Humid", "Rochester", "USA_MN_Rochester.Intl.AP.726440_TMY3.epw"),
    ("Cold_Dry", "GreatFalls", "USA_MT_Great.Falls.Intl.AP.727750_TMY3.epw"),
    ("Very_Cold", "InternationalFalls", "USA_MN_International.Falls.Intl.AP.727470_TMY3.epw"),
    ("Subarctic", "Fairbanks", "USA_AK_Fairbanks.Intl.AP.702610_TMY3.epw"),
]


def read_epw(path):
    with open(path, encoding="latin-1") as f:
        lines = f.read().splitlines()
    loc = lines[0].split(",")
    lat, lon, tz = float(loc[6]), float(loc[7]), float(loc[8])
    rows = [ln.split(",") for ln in lines[8:] if ln.strip()]
    month = [int(r[1]) for r in rows]
    temp = [float(r[6]) for r in rows]
    ghi = [float(r[13]) for r in rows]
    return lat, lon, tz, month, temp, ghi


def mean(v):
    return sum(v) / len(v)


def stats(path):
    lat, lon, tz, month, temp, ghi = read_epw(path)
    days = len(temp) // 24
    per_month = {m: [] for m in range(1, 13)}
    for d in range(days):
        t = temp[24 * d:24 * d + 24]
        g = ghi[24 * d:24 * d + 24]
        per_month[month[24 * d]].append((max(t), min(t), sum(g), max(g), mean(t)))
    monthly = []
    anomaly, cv = [], []
    for m in range(1, 13):
        rows = per_month[m]
        cols = list(zip(*rows))
        monthly.append([mean(c) for c in cols[:4]])
        tmean, gmean = mean(cols[4]), mean(cols[2])
        anomaly += [x - tmean for x in cols[4]]
        cv += [(x - gmean) / gmean for x in cols[2]]
    sd = (sum(a * a for a in anomaly) / len(anomaly)) ** 0.5
    ar1 = sum(anomaly[i] * anomaly[i + 1] for i in range(len(anomaly) - 1)) / (sd * sd * len(anomaly))
    gcv = (sum(c * c for c in cv) / len(cv)) ** 0.5
    site = dict(lat=lat, lon=lon, tz=tz, max_ghi=max(ghi), temp_sd=sd, temp_ar1=ar1, ghi_cv=gcv)
    return site, monthly


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    wdir = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "plugins", "hvac")
    results = [(c, city, f) + stats(os.path.join(wdir, f)) for c, city, f in CONDITIONS]

    with open(os.path.join(out, "climate_table.csv"), "w") as f:
        f.write("condition,city,month,tmax,tmin,ghi_total,ghi_peak\n")
        for c, city, _, _, monthly in results:
            for m, (tmax, tmin, gt, gp) in enumerate(monthly, 1):
                f.write("%s,%s,%d,%.4f,%.4f,%.2f,%.2f\n" % (c, city, m, tmax, tmin, gt, gp))
    with open(os.path.join(out, "climate_sites.csv"), "w") as f:
        f.write("condition,city,epw,latitude,longitude,tz,max_ghi,temp_sd,temp_ar1,ghi_cv\n")
        for c, city, epw, s, _ in results:
            f.write("%s,%s,%s,%.2f,%.2f,%.1f,%.0f,%.4f,%.4f,%.4f\n" % (
                c, city, epw, s["lat"], s["lon"], s["tz"], s["max_ghi"], s["temp_sd"],
                s["temp_ar1"], s["ghi_cv"]))
    with open(os.path.join(out, "climate_table.c"), "w") as f:
        f.write("/*\n * Monthly statistics of the TMY3 files behind the 16 weather conditions, the targets\n"
                " * of the synthetic climates. Generated by tools/climate_stats.py from the EPW files in\n"
                " * ../shared/data/weather (also in climate_table.csv and climate_sites.csv); do not edit.\n"
                " * Months Jan..Dec: {mean daily max C, mean daily min C, mean daily GHI Wh/m2,\n"
                " * mean daily peak hourly GHI Wh/m2}.\n */\n")
        f.write('#include "weather.h"\n\nconst hvac_climate hvac_climates[HVAC_N_CONDITIONS] = {\n')
        for c, city, epw, s, monthly in results:
            f.write('    {"%s", "%s", "%s",\n' % (c, city, epw))
            f.write("     %.2f, %.2f, %.1f, %.0f, %.4f, %.4f, %.4f,\n" % (
                s["lat"], s["lon"], s["tz"], s["max_ghi"], s["temp_sd"], s["temp_ar1"], s["ghi_cv"]))
            f.write("     {\n")
            for tmax, tmin, gt, gp in monthly:
                f.write("      {%.4f, %.4f, %.2f, %.2f},\n" % (tmax, tmin, gt, gp))
            f.write("     }},\n")
        f.write("};\n")


if __name__ == "__main__":
    main()
